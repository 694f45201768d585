-- id: SIP-DLG-002
-- severity: error
-- title: In-dialog request answered 481 while the dialog is alive in the capture
-- rfc: RFC 3261 §12.2.2, RFC 3261 §12.2.1.2, RFC 5057 §5.1
-- impact: The dialog usage is torn down; for INVITE dialogs the UAC sends BYE, so the call drops at
--   the moment of the re-INVITE/UPDATE (hold, transfer, session refresh).
-- message: {responder} answered the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason} although the dialog was confirmed {age_s} s earlier and no BYE had ended
--   it{followed}
--
-- A 481 says "no such dialog" (RFC 3261 §12.2.2); here the capture shows the dialog alive: it was
-- confirmed (its 2xx seen) before the request was sent, it was not terminated before it, and no
-- BYE of the dialog had been sent before the request (a BYE sent before the request plus the
-- tolerance, answered 2xx or not answered at all, is the BYE/re-INVITE crossing trap: the 481 is
-- then right).  Partial dialogs (capture started mid-call, G4) have no confirmation time and are
-- skipped: the dialog may already have been dead.  Each fork is its own dialog (G10): a request
-- sent in a fork that was never confirmed is not considered.  Left to other rules: 481 to CANCEL
-- (SIP-CAN-004, only the CANCEL transaction is affected) and 481 to PRACK (SIP-PRACK-007: a PRACK
-- that matches no reliable 1xx gets 481 legitimately, RFC 3262 §3).  Evaluated per transaction,
-- i.e. per hop (G6); the anchor is the 481, evidence: the dialog's INVITE, 2xx and ACK, the
-- request, the 481 and the BYE that followed, if any.
-- A final that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same final status) is reported once, on the hop next to the UA that produced it (A.9.4).
SELECT x.final_msg_id AS msg_id,
       x.dialog_id,
       trim(coalesce(c.req_msg_id, '') || ' '
            || coalesce((SELECT min(cr.first_msg_id) FROM txn_response cr
                         WHERE cr.txn_id = d.created_txn_id AND cr.to_tag = d.callee_tag
                           AND cr.status BETWEEN 200 AND 299), '') || ' '
            || coalesce((SELECT min(a.req_msg_id) FROM txn a
                         WHERE a.dialog_id = d.dialog_id AND a.kind = 'ACK2XX'
                           AND a.cseq_num = c.cseq_num AND a.uac_side = c.uac_side), '') || ' '
            || x.req_msg_id || ' ' || coalesce(bye.req_msg_id, '')) AS evidence,
       coalesce(rq.to_user || ' (' || x.uas || ')', x.uas) AS responder,
       coalesce(rq.from_user || CASE WHEN rq.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')',
                x.uac) AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       x.final_status AS status,
       rs.reason,
       printf('%.1f', (x.req_first_us - d.confirmed_us) / 1e6) AS age_s,
       CASE WHEN bye.txn_id IS NOT NULL
            THEN '; ' || CASE WHEN bye.uac_side = x.uac_side THEN 'the requester' ELSE 'the responder' END
                 || ' then sent BYE (CSeq ' || bye.cseq_num || ')'
            ELSE '' END AS followed
FROM t x
JOIN dialog d ON d.dialog_id = x.dialog_id
JOIN m rq ON rq.msg_id = x.req_msg_id
JOIN message rs ON rs.msg_id = x.final_msg_id
LEFT JOIN txn c ON c.txn_id = d.created_txn_id
LEFT JOIN txn bye ON bye.txn_id = (SELECT b2.txn_id FROM txn b2
                                   WHERE b2.dialog_id = x.dialog_id AND b2.method = 'BYE'
                                     AND b2.req_first_us > x.first_final_us
                                   ORDER BY b2.req_first_us LIMIT 1)
WHERE x.in_dialog = 1
  AND x.kind IN ('INVITE', 'NONINVITE')
  AND x.method NOT IN ('CANCEL', 'PRACK')
  AND x.final_status = 481
  AND NOT EXISTS (SELECT 1 FROM txn c   -- relayed by a proxy from the next hop: reported there
                  WHERE c.dialog_id = x.dialog_id AND c.parent_txn_id = x.txn_id
                    AND c.final_status = x.final_status)
  AND d.partial = 0
  AND d.confirmed_us IS NOT NULL AND d.confirmed_us <= x.req_first_us
  AND (d.terminated_us IS NULL OR d.terminated_us >= x.req_first_us)
  AND NOT EXISTS (SELECT 1 FROM txn b
                  WHERE b.dialog_id = x.dialog_id AND b.method = 'BYE' AND b.txn_id <> x.txn_id
                    AND b.req_first_us <= x.req_first_us + :tol_us
                    AND (b.final_status IS NULL OR b.final_status BETWEEN 200 AND 299));
