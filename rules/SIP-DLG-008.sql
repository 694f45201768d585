-- id: SIP-DLG-008
-- severity: warning
-- title: re-INVITE/UPDATE rejected with a transaction-only code that makes no sense mid-dialog (486, 600, 603, 480)
-- rfc: RFC 5057 §5.1
-- impact: Usually the sign that the UAS ran its new-call logic (busy, decline) on a re-INVITE; the
--   session change is not applied.
-- message: {responder} answered the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason}, a new-call answer that makes no sense inside an established dialog
--
-- RFC 5057 §5.1 (Table 2, notes 7, 11, 17): 480, 486, 600 and 603 are senseless inside an
-- established usage and are to be treated as an unknown 4xx/6xx.  Detect: the final response of
-- an in-dialog INVITE or UPDATE transaction is one of them (per hop; the first final of the
-- transaction).  Not part of the rule: 488 (offer not acceptable) and 491 (glare) are legitimate
-- answers to a re-INVITE (RFC 3261 §14.2); 422 is left to the session-timer rules (SIP-ST-003/005:
-- RFC 4028 §10 allows a 422 to a refresh).  Evidence: the dialog's creating 2xx, the request and
-- the final (its Warning/Reason show in the raw message).
-- A final that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same final status) is reported once, on the hop next to the UA that produced it (A.9.4).
SELECT x.final_msg_id AS msg_id,
       x.dialog_id,
       coalesce((SELECT min(cr.first_msg_id) || ' ' FROM txn_response cr
                 WHERE cr.txn_id = d.created_txn_id AND cr.to_tag = d.callee_tag
                   AND cr.status BETWEEN 200 AND 299), '') || x.req_msg_id AS evidence,
       coalesce(rq.to_user || ' (' || x.uas || ')', x.uas) AS responder,
       coalesce(rq.from_user || CASE WHEN rq.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')',
                x.uac) AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       x.final_status AS status,
       rs.reason
FROM t x
JOIN m rq ON rq.msg_id = x.req_msg_id
JOIN message rs ON rs.msg_id = x.final_msg_id
LEFT JOIN dialog d ON d.dialog_id = x.dialog_id
WHERE x.in_dialog = 1
  AND (x.kind = 'INVITE' OR (x.kind = 'NONINVITE' AND x.method = 'UPDATE'))
  AND x.final_status IN (480, 486, 600, 603)
  AND NOT EXISTS (SELECT 1 FROM txn c   -- relayed by a proxy from the next hop: reported there
                  WHERE c.dialog_id = x.dialog_id AND c.parent_txn_id = x.txn_id
                    AND c.final_status = x.final_status);
