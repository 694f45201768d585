-- id: SIP-DLG-001
-- severity: error
-- title: Response to an in-dialog request carries a different (or no) To tag
-- rfc: RFC 3261 §8.2.6.2, RFC 3261 §12.2.2, RFC 3261 §13.3.1
-- impact: The far end cannot match the response to its dialog: the re-INVITE or refresh fails, and
--   the far end typically sends BYE or lets the session expire (call dropped mid-call).
-- message: {responder} answered the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason} carrying To tag {resp_tag} instead of the dialog's tag {req_tag}{also}{new_dialog}
--
-- One finding per transaction (per hop: transactions are per hop, so a B2BUA or SBC that rewrites
-- tags on its other leg is never compared across legs, G11): an in-dialog request (it had a To tag)
-- and a response of the same transaction, other than 100 Trying, whose To tag differs from the
-- request's (RFC 3261 §8.2.6.2: the UAS copies the To tag of a request that has one).  A 100 from a
-- proxy copies the request's To and may lack a tag: 100 is never compared.  Retransmitted
-- responses are one response (txn_response holds each status + To tag once, G1/G2).  A response
-- without a To tag to an RFC 2543 request (no magic cookie) is left out (G14).
-- The anchor is the first offending response; evidence: the request, every offending response,
-- the 2xx that created the dialog and, when it exists, the first later request of another
-- transaction that carries the new tag (the "new dialog created" sub-variant: the peer now uses a
-- second dialog; the ACK of a non-2xx final copies the final's To by rule and does not count).
-- Related rules report other facets of the same transaction: SIP-DLG-004 raises its challenge
-- finding to error when the 401/407 came with a foreign tag; SIP-DLG-006 reports a retransmission
-- answered with a second, different final.
-- A response that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same status and To tag) is reported once, on the hop next to the UA that produced it (A.9.4).
WITH bad AS (
    SELECT x.txn_id, r.first_msg_id AS resp_id, r.status, r.to_tag, r.first_us,
           row_number() OVER (PARTITION BY x.txn_id ORDER BY r.first_us, r.first_msg_id) AS k,
           count(*) OVER (PARTITION BY x.txn_id) AS n,
           group_concat(r.first_msg_id, ' ') OVER (PARTITION BY x.txn_id) AS resp_ids
    FROM txn x
    JOIN txn_response r ON r.txn_id = x.txn_id
    WHERE x.in_dialog = 1 AND x.kind <> 'ACK2XX'
      AND r.status <> 100
      AND r.to_tag <> x.req_to_tag
      AND NOT (x.rfc2543 = 1 AND r.to_tag = '')
      AND NOT EXISTS (SELECT 1 FROM txn c JOIN txn_response cr ON cr.txn_id = c.txn_id
                      WHERE c.dialog_id = x.dialog_id AND c.parent_txn_id = x.txn_id
                        AND cr.status = r.status AND cr.to_tag = r.to_tag)
)
SELECT b.resp_id AS msg_id,
       x.dialog_id,
       trim(x.req_msg_id || ' ' || b.resp_ids || ' ' || coalesce((SELECT min(cr.first_msg_id) FROM txn_response cr
                                 WHERE cr.txn_id = d.created_txn_id AND cr.to_tag = d.callee_tag
                                   AND cr.status BETWEEN 200 AND 299), '') || ' '
            || coalesce((SELECT min(u.msg_id) FROM m u
                         WHERE u.call_id = x.call_id AND u.is_request = 1 AND u.ts_us > b.first_us
                           AND u.txn_id IS NOT x.txn_id
                           AND b.to_tag <> '' AND (u.to_tag = b.to_tag OR u.from_tag = b.to_tag)), '')) AS evidence,
       coalesce(rq.to_user || ' (' || x.uas || ')', x.uas) AS responder,
       coalesce(rq.from_user || CASE WHEN rq.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')',
                x.uac) AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       b.status,
       rs.reason,
       CASE b.to_tag WHEN '' THEN '(none)' ELSE b.to_tag END AS resp_tag,
       x.req_to_tag AS req_tag,
       CASE WHEN b.n > 1 THEN ' (and ' || (b.n - 1) || ' more response(s) with a foreign tag)' ELSE '' END AS also,
       CASE WHEN EXISTS (SELECT 1 FROM m u
                         WHERE u.call_id = x.call_id AND u.is_request = 1 AND u.ts_us > b.first_us
                           AND u.txn_id IS NOT x.txn_id
                           AND b.to_tag <> '' AND (u.to_tag = b.to_tag OR u.from_tag = b.to_tag))
            THEN '; the new tag then appears in later requests (a second dialog)' ELSE '' END AS new_dialog
FROM bad b
JOIN t x ON x.txn_id = b.txn_id
JOIN m rq ON rq.msg_id = x.req_msg_id
JOIN message rs ON rs.msg_id = b.resp_id
LEFT JOIN dialog d ON d.dialog_id = x.dialog_id
WHERE b.k = 1;
