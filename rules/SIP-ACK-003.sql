-- id: SIP-ACK-003
-- severity: warning
-- title: ACK for a 2xx reuses the INVITE's branch
-- rfc: RFC 3261 §8.1.1.7, RFC 3261 §13.2.2.4, RFC 3261 §17
-- impact: A stateful proxy may take the ACK for the ACK of a non-2xx and absorb it instead of
--   forwarding it: the answering side never sees the ACK, retransmits its 2xx and drops the call
--   after 32 s (SIP-ACK-001).
-- message: {uac} sent the ACK for the {status} {reason} of {uas} to its {what} (CSeq {cseq}) with
--   the INVITE's own Via branch {branch}, instead of a new branch
-- confidence: high
--
-- The transaction stage files an ACK that carries the INVITE's key after a 2xx as its own
-- ACK2XX transaction (lib/txn: an ACK folds into the INVITE transaction only when that one's
-- final response is not a 2xx, RFC 6026 §7.1), so the rule looks for an ACK2XX transaction
-- whose top-Via branch and sent-by equal those of an INVITE transaction of the same Call-ID and
-- CSeq number that got a 2xx.  One finding per ACK transaction (its retransmissions are copies
-- of it, G1).  Compared with the INVITE on any hop: the ACK of a 2xx may go another way than
-- the INVITE (route set), the branch is wrong wherever it is seen.
-- Skipped (RULES.md G14): transactions without the z9hG4bK cookie (RFC 2543), where the ACK is
-- matched by other fields, and empty branches.
-- Not covered: an INVITE whose first final was a non-2xx and that later got a 2xx too; an ACK
-- with its branch is then filed into the INVITE transaction as the non-2xx ACK.
-- The ACK2XX transactions on the branch of an INVITE of their Call-ID first, in one pass over the
-- index txn_call (a plain join reads every INVITE's call, and a Call-ID replayed by a new call
-- has many INVITEs).
WITH reused AS MATERIALIZED (
    SELECT a.txn_id FROM txn a
    WHERE a.kind = 'ACK2XX' AND a.branch <> ''
      AND EXISTS (SELECT 1 FROM txn i
                  WHERE i.call_id = a.call_id AND i.branch = a.branch AND i.kind = 'INVITE')
)
SELECT a.req_msg_id AS msg_id,
       x.req_msg_id || ' ' || r.msg_id || ' ' || a.req_msg_id AS evidence,
       a.dialog_id,
       a.uac, xx.uas, x.cseq_num AS cseq, r.status, r.reason, a.branch,
       CASE WHEN x.in_dialog = 1 THEN 're-INVITE' ELSE 'INVITE' END AS what
FROM reused u
JOIN t a ON a.txn_id = u.txn_id
JOIN txn x ON x.call_id = a.call_id AND x.kind = 'INVITE' AND x.cseq_num = a.cseq_num
           AND x.branch = a.branch AND x.sent_by IS a.sent_by AND x.rfc2543 = 0
JOIN t xx ON xx.txn_id = x.txn_id
JOIN m r ON r.msg_id = (SELECT min(rr.first_msg_id) FROM txn_response rr
                        WHERE rr.txn_id = x.txn_id AND rr.status BETWEEN 200 AND 299)
WHERE a.kind = 'ACK2XX' AND a.rfc2543 = 0 AND a.branch <> ''
ORDER BY a.req_first_us;
