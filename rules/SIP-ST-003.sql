-- id: SIP-ST-003
-- severity: error
-- title: Session refresh rejected (non-2xx) or timed out
-- rfc: RFC 4028 §10, RFC 3261 §12.2.1.2, RFC 5057 §5.1
-- impact: The session is not extended: the call drops at expiry, or at once after 408/481/timeout
--   (field case: a UA answering the provider's refresh re-INVITE with 503).
-- message: {responder} {answer} the session refresh {method} (CSeq {cseq}) that the refresher
--   {refresher} ({who}) sent {at_s} s after the 2xx arming the {se} s timer{outcome}
-- inconclusive: {responder} {answer} the session refresh {method} (CSeq {cseq}) of {refresher}
--   ({who}); the capture ends {cap_s} s after the arming 2xx, before the {se} s expiry,
--   without a successful refresh so far
-- confidence: medium
--
-- Refresh = re-INVITE/UPDATE sent by the refresher while the timer is armed (latest session_timer
-- row before it is 'armed' and names that side), before expiry, whose first final response is
-- >= 300 or that timed out (txn end_reason 'timeout'). Recovered = a later 2xx re-armed or cleared
-- the timer (session_timer 'armed'/'disarmed' row) before expiry + tol: warning. Not recovered and
-- the dialog ended, or the capture covers expiry + tol: error; otherwise inconclusive (G3).
-- 401/407 (G9: the resubmission is the same attempt), 491 (glare: SIP-OVL) and 422 (SIP-ST-005)
-- are only reported when no successful refresh followed. A failed re-INVITE/UPDATE of the
-- non-refresher does not endanger the session (the refresher's own refresh is still due; if it
-- never comes, SIP-ST-001 fires), so it is left out. When the same failure was relayed from the
-- next hop (a child transaction, parent_txn_id, with the same final status), only the hop nearest
-- the responder is reported. Proxy failover to another branch (RFC 3263) is not correlated.
WITH y AS (
    SELECT x.*,
           (SELECT s.rowid FROM session_timer s
             WHERE s.dialog_id = x.dialog_id AND s.kind IN ('armed', 'disarmed')
               AND s.ts_us < x.req_first_us
             ORDER BY s.ts_us DESC LIMIT 1) AS st_row
    FROM (SELECT DISTINCT dialog_id FROM session_timer WHERE kind = 'armed') d   -- a timer ran there
    CROSS JOIN t x ON x.dialog_id = d.dialog_id
    WHERE x.method IN ('INVITE', 'UPDATE') AND x.in_dialog = 1 AND x.dialog_id IS NOT NULL
      AND x.kind IN ('INVITE', 'NONINVITE')
      AND (x.final_status >= 300 OR x.end_reason = 'timeout')
      AND NOT EXISTS (SELECT 1 FROM txn ch     -- relayed from the next hop: report that hop
                       WHERE ch.parent_txn_id = x.txn_id
                         AND (ch.final_status = x.final_status
                              OR (ch.final_status IS NULL AND x.final_status IS NULL)))
),
f AS (
    SELECT y.*, p.msg_id AS arm_msg_id, p.ts_us AS arm_us, p.interval_s, p.refresher,
           p.expiry_us,
           (SELECT n.msg_id FROM session_timer n
             WHERE n.dialog_id = y.dialog_id AND n.kind IN ('armed', 'disarmed')
               AND n.ts_us > y.req_first_us AND n.ts_us <= p.expiry_us + :tol_us
             ORDER BY n.ts_us LIMIT 1) AS ok_msg_id,
           CASE WHEN d.state = 'terminated' AND d.term_cause <> 'capture_end'
                THEN d.terminated_us END AS end_us,
           d.bye_msg_id
    FROM y
    JOIN session_timer p ON p.rowid = y.st_row
    JOIN dialog d ON d.dialog_id = y.dialog_id
    WHERE p.kind = 'armed' AND p.refresher = y.uac_side AND y.req_first_us < p.expiry_us
)
SELECT f.req_msg_id AS msg_id,
       f.dialog_id,
       trim(f.arm_msg_id || ' ' || f.req_msg_id || ' ' || coalesce(f.final_msg_id, '') || ' ' ||
            coalesce(f.ok_msg_id, '') || ' ' || coalesce(f.bye_msg_id, '')) AS evidence,
       CASE WHEN f.ok_msg_id IS NOT NULL THEN 'warning' END AS severity,
       CASE WHEN f.ok_msg_id IS NULL AND f.end_us IS NULL
                 AND c.end_us < f.expiry_us + :tol_us THEN 1 ELSE 0 END AS inconclusive,
       f.uas AS responder,
       f.uac AS refresher,
       'the ' || f.refresher AS who,
       f.method AS method,
       f.cseq_num AS cseq,
       f.interval_s AS se,
       printf('%.1f', (f.req_first_us - f.arm_us) / 1e6) AS at_s,
       printf('%.1f', (c.end_us - f.arm_us) / 1e6) AS cap_s,
       CASE WHEN f.final_status IS NULL
            THEN 'gave no final response within 64*T1 = ' || printf('%.0f', 64 * :t1_us / 1e6) ||
                 ' s (T1 = ' || (:t1_us / 1000) || ' ms) to'
            ELSE 'answered ' || r.status || ' ' || coalesce(r.reason, '') ||
                 CASE WHEN r.retry_after IS NOT NULL
                      THEN ' (Retry-After ' || r.retry_after || ')' ELSE '' END || ' to' END AS answer,
       CASE WHEN f.ok_msg_id IS NOT NULL
                THEN '; the refresher recovered: a later refresh succeeded ' ||
                     printf('%.1f', (k.ts_us - f.arm_us) / 1e6) || ' s after the arming 2xx'
            WHEN f.bye_msg_id IS NOT NULL
                THEN '; no successful refresh followed, and ' || b.src || ' (the ' || b.side ||
                     ') ended the dialog with BYE ' || printf('%.1f', (b.ts_us - f.arm_us) / 1e6) ||
                     ' s after the arming 2xx'
            WHEN f.end_us IS NOT NULL
                THEN '; no successful refresh followed before the dialog ended'
            ELSE '; no successful refresh followed before the session expired ' ||
                 f.interval_s || ' s after the arming 2xx' END AS outcome
FROM f
JOIN message a ON a.msg_id = f.req_msg_id
JOIN coverage c ON c.capture_id = a.capture_id
LEFT JOIN m r ON r.msg_id = f.final_msg_id
LEFT JOIN m k ON k.msg_id = f.ok_msg_id
LEFT JOIN m b ON b.msg_id = f.bye_msg_id
WHERE NOT (f.ok_msg_id IS NOT NULL AND f.final_status IN (401, 407, 422, 491))
ORDER BY f.txn_id;   -- the order of a scan of txn: the same rows listed under the cap
