-- id: SIP-DLG-003
-- severity: error
-- title: In-dialog request rejected with a dialog-destroying code (404, 410, 416, 482, 483, 484, 485, 502, 604)
-- rfc: RFC 5057 §5.1, RFC 3261 §8.2.2.1, RFC 3261 §12.2.2
-- impact: The dialog is destroyed: the call drops or the mid-call feature (hold, transfer, refresh)
--   fails.
-- message: {responder} answered the in-dialog {request} (CSeq {cseq}) from {requester} of a live
--   dialog with {status} {reason}{uri_note}
--
-- RFC 5057 §5.1 (Tables 1-2) lists these finals as destroying the dialog: a UA answers them to
-- a request it could not match to its dialog (typically it ran its new-call logic: 404 to a
-- Request-URI that is its own Contact).  Detect: the final response of an in-dialog transaction
-- (not CANCEL, whose answer concerns the CANCEL only) is one of these codes while the dialog is
-- alive: confirmed before the request and not terminated before it (a BYE answered 2xx
-- terminates it).  Partial dialogs (capture started mid-call, G4) are skipped: no confirmation,
-- so no proof that the dialog was alive.  Per transaction, i.e. per hop (G6).
-- The message says whether the Request-URI is the responder's own current Contact (the last
-- Contact the responder sent in this dialog before the request, the dialog's INVITE included):
-- that is the signature of "the UAS did not recognise its own Contact".  When it is not (the
-- requester used another target, e.g. it missed a target refresh: RULES.md trap "Contact really
-- changed"), confidence drops to medium.  483 can be recoverable by raising Max-Forwards
-- (RFC 5057 §5.1 note 10); it is still reported.  Evidence: the dialog's creating 2xx (the
-- responder's Contact), the request, the final.
-- A final that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same final status) is reported once, on the hop next to the UA that produced it (A.9.4).
WITH x AS (
    SELECT t.*, d.created_txn_id, d.callee_tag, d.confirmed_us,
           rq.ruri, rq.from_uri, rq.to_uri, rq.via_count,
           (SELECT cu FROM (SELECT c.contact_uri AS cu, c.ts_us AS ts FROM message c
                            WHERE c.dialog_id = t.dialog_id AND c.ts_us < t.req_first_us
                              AND c.contact_uri IS NOT NULL AND c.side IS NOT t.uac_side
                            UNION ALL
                            SELECT c.contact_uri, c.ts_us FROM txn ct JOIN message c ON c.msg_id = ct.req_msg_id
                            WHERE ct.txn_id = d.created_txn_id AND c.contact_uri IS NOT NULL
                              AND c.side IS NOT t.uac_side)
            ORDER BY ts DESC LIMIT 1) AS their_contact
    FROM t
    JOIN dialog d ON d.dialog_id = t.dialog_id
    JOIN message rq ON rq.msg_id = t.req_msg_id
    WHERE t.in_dialog = 1
      AND t.kind IN ('INVITE', 'NONINVITE')
      AND t.method <> 'CANCEL'
      AND t.final_status IN (404, 410, 416, 482, 483, 484, 485, 502, 604)
      AND NOT EXISTS (SELECT 1 FROM txn c   -- relayed by a proxy from the next hop: reported there
                      WHERE c.dialog_id = t.dialog_id AND c.parent_txn_id = t.txn_id
                        AND c.final_status = t.final_status)
      AND d.partial = 0
      AND d.confirmed_us IS NOT NULL AND d.confirmed_us <= t.req_first_us
      AND (d.terminated_us IS NULL OR d.terminated_us >= t.req_first_us)
)
SELECT x.final_msg_id AS msg_id,
       x.dialog_id,
       trim(coalesce((SELECT min(cr.first_msg_id) FROM txn_response cr
                      WHERE cr.txn_id = x.created_txn_id AND cr.to_tag = x.callee_tag
                        AND cr.status BETWEEN 200 AND 299), '')
            || ' ' || x.req_msg_id) AS evidence,
       CASE WHEN instr(x.to_uri, '@') > 0
            THEN substr(x.to_uri, instr(x.to_uri, ':') + 1, instr(x.to_uri, '@') - instr(x.to_uri, ':') - 1)
                 || ' (' || x.uas || ')'
            ELSE x.uas END AS responder,
       CASE WHEN instr(x.from_uri, '@') > 0
            THEN substr(x.from_uri, instr(x.from_uri, ':') + 1, instr(x.from_uri, '@') - instr(x.from_uri, ':') - 1)
                 || CASE WHEN x.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')'
            ELSE x.uac END AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       x.final_status AS status,
       rs.reason,
       CASE WHEN x.their_contact IS NULL THEN ''
            WHEN lower(x.ruri) = lower(x.their_contact)
            THEN ' (its Request-URI ' || x.ruri || ' is the responder''s own Contact)'
            ELSE ' (its Request-URI ' || x.ruri || ' is not the responder''s last Contact '
                 || x.their_contact || ')' END AS uri_note,
       CASE WHEN x.their_contact IS NOT NULL AND lower(x.ruri) <> lower(x.their_contact)
            THEN 'medium' ELSE 'high' END AS confidence
FROM x
JOIN message rs ON rs.msg_id = x.final_msg_id;
