-- id: SIP-ST-004
-- severity: warning
-- title: BYE at or near session expiry (session-timer teardown)
-- rfc: RFC 4028 §10
-- impact: Explains "the call drops after exactly N seconds": the session timer, not the user, ended
--   the call.
-- message: {sender} ({who}, {role}) sent BYE {at_s} s after the 2xx to {method} (CSeq {cseq}) that
--   armed a {se} s session timer, with no successful refresh since: near the session-timer teardown
--   point (expiry - min(32 s, SE/3) = {bye_due_s} s, expiry {se} s){cause}
-- confidence: low
--
-- The first BYE of a dialog whose latest session_timer row before it is 'armed' (so no refresh 2xx
-- since that arming 2xx) and which falls in [bye_due - tol - 2 s, expiry + tol]. The role tells
-- whether the non-refresher tore down as RFC 4028 §10 expects (the refresher failed to refresh:
-- SIP-ST-001 or SIP-ST-003 name the cause) or the refresher itself gave up. A user hang-up can fall
-- into the window by chance: the arithmetic is in the sentence, hence low confidence. A BYE after
-- expiry + tol is left to SIP-ST-001 (it names that BYE). Reason headers are decoded elsewhere.
WITH b AS (
    SELECT x.*,
           (SELECT s.rowid FROM session_timer s
             WHERE s.dialog_id = x.dialog_id AND s.kind IN ('armed', 'disarmed')
               AND s.ts_us < x.req_first_us
             ORDER BY s.ts_us DESC LIMIT 1) AS st_row
    FROM (SELECT DISTINCT dialog_id FROM session_timer WHERE kind = 'armed') d   -- a timer ran there
    CROSS JOIN t x ON x.dialog_id = d.dialog_id
    WHERE x.method = 'BYE' AND x.dialog_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM txn e
                       WHERE e.dialog_id = x.dialog_id AND e.kind = 'NONINVITE'
                         AND e.method = 'BYE' AND e.req_first_us < x.req_first_us)
)
SELECT b.req_msg_id AS msg_id,
       b.dialog_id,
       p.msg_id || ' ' || b.req_msg_id AS evidence,
       b.uac AS sender,
       'the ' || b.uac_side AS who,
       CASE WHEN b.uac_side = p.refresher THEN 'the refresher'
            WHEN p.refresher IS NULL THEN 'refresher unknown'
            ELSE 'the non-refresher' END AS role,
       a.method AS method,
       a.cseq_num AS cseq,
       p.interval_s AS se,
       printf('%.1f', (b.req_first_us - p.ts_us) / 1e6) AS at_s,
       printf('%.0f', (p.bye_due_us - p.ts_us) / 1e6) AS bye_due_s,
       CASE WHEN b.uac_side = p.refresher
            THEN '; the refresher gave up on its own session'
            WHEN p.refresher IS NOT NULL
            THEN '; the expected reaction of the non-refresher when no refresh arrives'
            ELSE '' END AS cause
FROM b
JOIN session_timer p ON p.rowid = b.st_row
JOIN t a ON a.txn_id = p.txn_id
WHERE p.kind = 'armed'
  AND b.req_first_us >= p.bye_due_us - :tol_us - 2000000
  AND b.req_first_us <= p.expiry_us + :tol_us
ORDER BY b.txn_id;   -- the order of a scan of txn: the same rows listed under the cap
