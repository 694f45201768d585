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
WITH odd AS (   -- found without reading every message (rules/prelude.sql)
    SELECT msg_id FROM msg_mark WHERE bad_cseq_method
)
SELECT q.msg_id,
       q.src || coalesce(' (' || q.side || ')', '') AS sender,
       q.dst AS receiver,
       q.method,
       coalesce(q.cseq_num, '?') AS cseq,
       q.cseq_method
FROM odd o
JOIN lm q ON q.msg_id = o.msg_id
WHERE q.is_request = 1 AND q.method <> 'ACK' AND q.cseq_method IS NOT NULL
  AND q.cseq_method <> q.method
ORDER BY q.msg_id;
