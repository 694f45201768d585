-- id: SIP-ST-002
-- severity: warning
-- title: Session refresh sent late
-- rfc: RFC 4028 §7.2, RFC 4028 §9, RFC 4028 §4, RFC 3261 §17.1.1.2
-- impact: With little time left before expiry, one lost packet turns into an expired session and a
--   dropped call.
-- message: {refresher} ({who}) sent its session refresh {method} (CSeq {cseq}) {at_s} s after the 2xx
--   that armed the {se} s session timer: due after {due_s} s
--   and tolerated until {limit_s} s, only {left_s} s
--   before expiry{margin}
-- confidence: medium
--
-- The first re-INVITE/UPDATE the refresher sends in an armed period (the latest session_timer row
-- before it is 'armed' and names that side), when it leaves more than max(5 s, SE/10) after
-- refresh_due (SE/2) but before expiry. Error instead of warning when expiry - send time < 64*T1:
-- the refresh transaction cannot finish, with retransmissions, before expiry.
-- A refresh sent after expiry, or none at all, is SIP-ST-001's; a late refresh that failed is also
-- reported by SIP-ST-003 (a different fault: the answer). Times are of one capture point (G7).
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
)
SELECT y.req_msg_id AS msg_id,
       y.dialog_id,
       p.msg_id || ' ' || y.req_msg_id || ' ' || coalesce(y.final_msg_id, '') AS evidence,
       CASE WHEN p.expiry_us - y.req_first_us < 64 * :t1_us THEN 'error' END AS severity,
       y.uac AS refresher,
       'the ' || p.refresher AS who,
       y.method AS method,
       y.cseq_num AS cseq,
       p.interval_s AS se,
       printf('%.1f', (y.req_first_us - p.ts_us) / 1e6) AS at_s,
       printf('%.0f', (p.refresh_due_us - p.ts_us) / 1e6) AS due_s,
       printf('%.0f', (p.refresh_due_us - p.ts_us) / 1e6 + max(5.0, p.interval_s / 10.0)) AS limit_s,
       printf('%.1f', (p.expiry_us - y.req_first_us) / 1e6) AS left_s,
       CASE WHEN p.expiry_us - y.req_first_us < 64 * :t1_us
            THEN ', less than 64*T1 = ' || printf('%.0f', 64 * :t1_us / 1e6) ||
                 ' s (T1 = ' || (:t1_us / 1000) || ' ms): the refresh transaction may not complete in time'
            ELSE '' END AS margin
FROM y
JOIN session_timer p ON p.rowid = y.st_row
WHERE p.kind = 'armed' AND p.refresher = y.uac_side
  AND y.req_first_us > p.refresh_due_us + max(5000000, p.interval_s * 100000)
  AND y.req_first_us < p.expiry_us
  AND NOT EXISTS (SELECT 1 FROM txn e
                   WHERE e.dialog_id = y.dialog_id AND e.method IN ('INVITE', 'UPDATE')
                     AND e.uac_side = y.uac_side
                     AND e.req_first_us > p.ts_us AND e.req_first_us < y.req_first_us)
ORDER BY y.txn_id;   -- the order of a scan of txn: the same rows listed under the cap
