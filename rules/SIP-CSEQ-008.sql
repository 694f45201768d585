-- id: SIP-CSEQ-008
-- severity: error
-- title: CSeq method differs from the request method
-- rfc: RFC 3261 §8.1.1.5, RFC 3261 §20.16
-- impact: Transaction matching breaks at the peer and at proxies: the responses match no client
--   transaction, the request times out (408) or is answered 400.
-- message: {sender} sent {method} to {receiver} with 'CSeq: {cseq} {cseq_method}'; the CSeq
--   method must be the request method, '{method}', byte for byte
-- confidence: high
--
-- Every logical request (first copies: G1, G2) whose CSeq method is not exactly its method
-- (the comparison is case-sensitive, as method names are: RFC 3261 §20.16, §7.1; extension
-- methods too).  ACK is left to SIP-CSEQ-003, which reports an ACK's CSeq as a whole (number
-- and method) against its INVITE.  A request without a usable CSeq (NULL method) is a
-- missing-header problem, not this rule.
WITH odd AS MATERIALIZED (   -- found in the index message_txn, without reading the messages
    SELECT msg_id FROM lm
    WHERE is_request = 1 AND method <> 'ACK' AND cseq_method IS NOT NULL AND cseq_method <> method
)
SELECT q.msg_id,
       q.src || coalesce(' (' || q.side || ')', '') AS sender,
       q.dst AS receiver,
       q.method,
       coalesce(q.cseq_num, '?') AS cseq,
       q.cseq_method
FROM odd o
JOIN lm q ON q.msg_id = o.msg_id
ORDER BY q.msg_id;
