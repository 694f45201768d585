-- id: SIP-CSEQ-007
-- severity: error
-- title: Response CSeq differs from its request
-- rfc: RFC 3261 §8.2.6.2, RFC 3261 §17.1.3
-- impact: A UAC that checks the CSeq discards the response: the request times out (408), and an
--   in-dialog request that times out ends the dialog.
-- message: {responder} answered {requester}'s {method} (CSeq {req_cseq}) with {status} {reason}
--   carrying 'CSeq: {resp_cseq}' instead of 'CSeq: {req_cseq} {req_cseq_method}'
-- confidence: high
--
-- RFC 3261 §17.1.3 matches a response to its client transaction by top-Via branch and CSeq
-- method only, so a response with another CSeq number still belongs to the request: the
-- transaction engine links it (txn_id set; the CSeq number is not part of the transaction
-- key for cookie branches).  The rule takes the logical responses (lm: G1, G2, so a response
-- retransmitted N times is reported once per distinct status) of a transaction whose CSeq
-- number differs from the request's.  For robustness it also looks at stray responses
-- (txn_id NULL, e.g. sent from another address than the hop of the request) and finds their
-- request on the same hop by branch, CSeq method and Call-ID, sent in the opposite direction
-- before the response.  Branches without the RFC 3261 cookie do not identify a transaction
-- (G14) and are skipped.  A response whose CSeq method matches no request with its branch is
-- left to the stray-response rule (SIP-TXN-004): with INVITE and CANCEL sharing a branch, the
-- method is the only key that tells which request it answers.  A response that copies a
-- request's wrong CSeq method (SIP-CSEQ-008) has the request's CSeq and does not fire here.
WITH s AS (
    SELECT r.msg_id, r.ts_us, r.src, r.dst, r.src_ip, r.src_port, r.dst_ip, r.dst_port, r.call_id, r.status, r.reason, r.to_tag,
           r.cseq_num, r.cseq_method, r.top_branch, r.top_sent_by,
           row_number() OVER (PARTITION BY r.src, r.dst, r.call_id, r.top_branch, r.cseq_method,
                                           r.cseq_num, r.status, r.to_tag
                              ORDER BY r.ts_us, r.msg_id) AS nth
    FROM m r
    WHERE r.is_request = 0 AND r.txn_id IS NULL
      AND r.top_branch LIKE 'z9hg4bk%'
), odd AS MATERIALIZED (   -- logical responses of a transaction whose number is not its request's
    -- (txn.cseq_num is the request's number): one pass over the index message_txn
    SELECT r.msg_id FROM lm r JOIN txn x ON x.txn_id = r.txn_id
    WHERE r.is_request = 0 AND r.cseq_num IS NOT x.cseq_num
), hit AS (
    SELECT s.*,
           (SELECT txn_id FROM (   -- the latest (max() picks its row, without a sort)
                SELECT x.txn_id, max(x.req_first_us) FROM txn x
                WHERE x.call_id = s.call_id AND x.branch = s.top_branch
                  AND x.method = s.cseq_method
                  AND x.uac_ip = s.dst_ip AND x.uac_port = s.dst_port
                  AND x.uas_ip = s.src_ip AND x.uas_port = s.src_port
                  AND x.req_first_us <= s.ts_us)) AS txn_id
    FROM s WHERE s.nth = 1
), cand AS (
    SELECT msg_id, src, dst, status, reason, cseq_num, cseq_method, txn_id FROM hit
    UNION ALL
    SELECT r.msg_id, r.src, r.dst, r.status, r.reason, r.cseq_num, r.cseq_method, r.txn_id
    FROM odd o JOIN lm r ON r.msg_id = o.msg_id
    WHERE r.top_branch LIKE 'z9hg4bk%'
)
SELECT h.msg_id,
       q.msg_id || ' ' || h.msg_id AS evidence,
       coalesce(q.dialog_id, x.dialog_id) AS dialog_id,
       h.src AS responder,
       h.dst || ' (' || coalesce(x.uac_side, '?') || ')' AS requester,
       CASE WHEN x.method = 'INVITE' AND x.in_dialog = 1 THEN 're-INVITE' ELSE x.method END AS method,
       q.cseq_num AS req_cseq,
       q.cseq_method AS req_cseq_method,
       h.status,
       h.reason,
       coalesce(h.cseq_num, '?') || ' ' || h.cseq_method AS resp_cseq
FROM cand h
JOIN t x ON x.txn_id = h.txn_id
JOIN m q ON q.msg_id = x.req_msg_id
WHERE h.cseq_num IS NOT q.cseq_num
ORDER BY h.msg_id;
