-- id: SIP-FORK-002
-- severity: warning
-- title: Extra dialog of a forked INVITE was ACKed but never terminated
-- rfc: RFC 3261 §13.2.2.4, RFC 3261 §15
-- impact: A "ghost" answered call stays up on another device: ports and licences are held, the
--   other callee hears silence, and the dialog ends later by a timeout, a session-timer BYE or
--   the other callee hanging up.
-- message: {uac} ACKed the {status} {reason} with To tag {to_tag} that {uas} forwarded for its
--   forked INVITE (CSeq {cseq}) but did not end that dialog within 64*T1 + 30 s (T1 = {t1_ms} ms)
--   while it used the dialog with To tag {other_tag} ({other_what}){more}
-- inconclusive: {uac} ACKed the {status} {reason} with To tag {to_tag} that {uas} forwarded for its
--   forked INVITE (CSeq {cseq}) while it used the dialog with To tag {other_tag} ({other_what});
--   that dialog was still up when the capture ended {seen_s} s after its 2xx, before the 64*T1 +
--   30 s deadline (T1 = {t1_ms} ms)
-- confidence: medium
--
-- The dialogs one out-of-dialog INVITE transaction created (dialog.created_txn_id) that were
-- confirmed (a 2xx), n >= 2.  A dialog Di is reported when:
--   - its 2xx was ACKed (an ACK2XX of Di with the INVITE's CSeq; an un-ACKed 2xx is
--     SIP-FORK-001's), the dialog is not partial (G4);
--   - no BYE in Di (from either side) and no other end of Di (dialog.terminated_us) by
--     2xx(Di) + 64*T1 + 30 s, the deadline of RULES.md B.5;
--   - the caller sent nothing in Di but the ACK before the deadline, while it sent some other
--     request (re-INVITE, UPDATE, BYE, ...) in another dialog Dj of the same INVITE before the
--     deadline: it treats Dj as the call.  When the caller is active on several dialogs (a
--     conference-like use, the FP trap of B.5) or on none, nothing is reported.
-- G3: when the capture of that input ends before the deadline + tol (Di still up), the row is
-- inconclusive.  Evidence: the INVITE, Di's 2xx and ACK, the 2xx of the dialog the caller used
-- and its requests in the other dialogs, and the BYE that ended Di late (if any).
WITH two AS (   -- INVITEs that created two such dialogs: the others cannot fire
    SELECT created_txn_id FROM dialog
    WHERE confirmed_us IS NOT NULL AND created_txn_id IS NOT NULL AND partial = 0 AND method = 'INVITE'
    GROUP BY created_txn_id HAVING count(*) >= 2),
dl AS (
    SELECT d.dialog_id, d.created_txn_id AS txn_id, d.callee_tag, d.confirmed_us, d.terminated_us,
           d.confirmed_us + 64 * :t1_us + 30000000 AS deadline
    FROM dialog d
    WHERE d.confirmed_us IS NOT NULL AND d.created_txn_id IS NOT NULL AND d.partial = 0
      AND d.method = 'INVITE'
      AND d.created_txn_id IN (SELECT created_txn_id FROM two)),
multi AS (
    SELECT dl.txn_id FROM dl JOIN txn x ON x.txn_id = dl.txn_id AND x.kind = 'INVITE' AND x.in_dialog = 0
    GROUP BY dl.txn_id HAVING count(*) >= 2),
-- the caller's requests (not ACK) in each dialog of those INVITEs
act AS (
    SELECT dl.dialog_id, dl.txn_id, a.req_msg_id, a.req_first_us, a.method
    FROM dl JOIN multi USING (txn_id)
    JOIN txn x ON x.txn_id = dl.txn_id
    JOIN txn a ON a.dialog_id = dl.dialog_id AND a.kind IN ('INVITE', 'NONINVITE')
    WHERE a.uac_side = x.uac_side AND a.in_dialog = 1),
cand AS (
    SELECT dl.*,
           (SELECT min(a.req_msg_id) FROM txn x JOIN txn a
                ON a.dialog_id = dl.dialog_id AND a.kind = 'ACK2XX' AND a.cseq_num = x.cseq_num
            WHERE x.txn_id = dl.txn_id) AS ack_msg_id,
           (SELECT min(b.req_first_us) FROM txn b
            WHERE b.dialog_id = dl.dialog_id AND b.kind = 'NONINVITE' AND b.method = 'BYE') AS bye_us,
           (SELECT b.req_msg_id FROM txn b
            WHERE b.dialog_id = dl.dialog_id AND b.kind = 'NONINVITE' AND b.method = 'BYE'
            ORDER BY b.req_first_us LIMIT 1) AS bye_msg_id
    FROM dl JOIN multi USING (txn_id)),
hit AS (
    SELECT c.*,
           (SELECT o.callee_tag FROM act a JOIN dl o ON o.dialog_id = a.dialog_id
            WHERE a.txn_id = c.txn_id AND a.dialog_id <> c.dialog_id AND a.req_first_us <= c.deadline
            ORDER BY a.req_first_us LIMIT 1) AS other_tag
    FROM cand c
    WHERE c.ack_msg_id IS NOT NULL
      AND (c.bye_us IS NULL OR c.bye_us > c.deadline)
      AND (c.terminated_us IS NULL OR c.terminated_us > c.deadline)
      AND NOT EXISTS (SELECT 1 FROM act a WHERE a.dialog_id = c.dialog_id AND a.req_first_us <= c.deadline))
SELECT r.msg_id,
       x.req_msg_id || ' ' || r.msg_id || ' ' || h.ack_msg_id
       || coalesce(' ' || (SELECT min(rr.first_msg_id) FROM txn_response rr
                           WHERE rr.txn_id = h.txn_id AND rr.status BETWEEN 200 AND 299
                             AND rr.to_tag = h.other_tag), '')
       || coalesce(' ' || (SELECT group_concat(a.req_msg_id, ' ') FROM act a
                           WHERE a.txn_id = h.txn_id AND a.dialog_id <> h.dialog_id
                             AND a.req_first_us <= h.deadline), '')
       || coalesce(' ' || h.bye_msg_id, '') AS evidence,
       h.dialog_id,
       x.uac, x.uas, x.cseq_num AS cseq, r.status, r.reason, h.callee_tag AS to_tag, h.other_tag,
       (SELECT group_concat(method, ', ') FROM (
            SELECT DISTINCT CASE a.method WHEN 'INVITE' THEN 're-INVITE' ELSE a.method END AS method
            FROM act a JOIN dl o ON o.dialog_id = a.dialog_id
            WHERE a.txn_id = h.txn_id AND o.callee_tag = h.other_tag AND a.req_first_us <= h.deadline))
           AS other_what,
       CASE WHEN cv.end_us < h.deadline + :tol_us THEN 1 ELSE 0 END AS inconclusive,
       printf('%.1f', (cv.end_us - h.confirmed_us) / 1e6) AS seen_s,
       CASE WHEN bm.msg_id IS NOT NULL
                 THEN printf('; %s ended it with BYE only %.1f s after its 2xx', bm.src,
                             (bm.ts_us - h.confirmed_us) / 1e6)
            ELSE printf('; it was still up when the capture ended %.1f s after its 2xx',
                        (cv.end_us - h.confirmed_us) / 1e6) END AS more
FROM hit h
JOIN t x ON x.txn_id = h.txn_id
JOIN m r ON r.msg_id = (SELECT min(rr.first_msg_id) FROM txn_response rr
                        WHERE rr.txn_id = h.txn_id AND rr.status BETWEEN 200 AND 299
                          AND rr.to_tag = h.callee_tag)
JOIN coverage cv ON cv.capture_id = x.capture_id
LEFT JOIN m bm ON bm.msg_id = h.bye_msg_id
WHERE h.other_tag IS NOT NULL
ORDER BY h.confirmed_us;
