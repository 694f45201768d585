-- id: SIP-ST-001
-- severity: error
-- title: Session refresh missing (the refresher never refreshed)
-- rfc: RFC 4028 §7.2, RFC 4028 §9, RFC 4028 §10
-- impact: The session expires: the call is dropped at last refresh + SE - min(32 s, SE/3) (the "calls
--   drop after N minutes" symptom: 268 s for SE=300, 1768 s for SE=1800).
-- message: {refresher} ({who}), the refresher named by refresher={param} in the 2xx to {method}
--   (CSeq {cseq}) that armed a {se} s session timer, sent no re-INVITE or UPDATE {window}
--   (refresh due after {due_s} s){outcome}
-- inconclusive: {refresher} ({who}) is the refresher of the {se} s session timer armed by the 2xx to
--   {method} (CSeq {cseq}); its refresh was due after {due_s} s, but the capture ends {cap_s} s
--   after that 2xx, before the expiry at {se} s, and shows no refresh so far
-- confidence: medium
--
-- One row per armed period (session_timer kind 'armed', resolved refresher) that is neither re-armed
-- nor cleared by a later 2xx (any re-INVITE/UPDATE from either side, session_timer 'armed' or
-- 'disarmed') before its expiry, and in which the refresher sent no re-INVITE/UPDATE before expiry.
-- Quiet when the dialog ended before bye_due - tol (a hang-up before the timer mattered). A BYE at
-- or after bye_due - tol is the timer's consequence: conclusive, named in the sentence (SIP-ST-004
-- reports that BYE itself). Without such an end, the capture must reach expiry + tol (G3), else the
-- row is inconclusive -- and only once the refresh is overdue: a capture that ends before the
-- refresh was due (refresh_due + tol) shows nothing missing, and a long capture of live calls
-- would otherwise give one inconclusive row per call still up at its end.
-- Not here: a refresh that was sent but failed (SIP-ST-003) or was late but before expiry
-- (SIP-ST-002); a 2xx without a valid refresher (refresher NULL: SIP-ST-007 takes over). Timers are
-- only known from a seen 2xx, so mid-call captures (G4) start with the first refresh 2xx.
WITH p AS (
    SELECT s.dialog_id, s.txn_id, s.msg_id, s.ts_us, s.interval_s, s.refresher,
           s.refresh_due_us, s.bye_due_us, s.expiry_us,
           (SELECT min(n.ts_us) FROM session_timer n
             WHERE n.dialog_id = s.dialog_id AND n.kind IN ('armed', 'disarmed')
               AND n.ts_us > s.ts_us) AS next_us,
           CASE WHEN d.state = 'terminated' AND d.term_cause <> 'capture_end'
                THEN d.terminated_us END AS end_us,
           d.bye_msg_id
    FROM session_timer s JOIN dialog d ON d.dialog_id = s.dialog_id
    WHERE s.kind = 'armed' AND s.refresher IN ('caller', 'callee') AND s.interval_s > 0
)
SELECT p.msg_id,
       p.dialog_id,
       trim(p.msg_id || ' ' || x.req_msg_id || ' ' || coalesce(p.bye_msg_id, '')) AS evidence,
       CASE WHEN p.end_us IS NULL AND c.end_us < p.expiry_us + :tol_us THEN 1 ELSE 0 END AS inconclusive,
       CASE WHEN p.refresher = x.uac_side THEN x.uac ELSE x.uas END AS refresher,
       'the ' || p.refresher AS who,
       lower(a.se_refresher) AS param,
       x.method AS method,
       x.cseq_num AS cseq,
       p.interval_s AS se,
       printf('%.0f', (p.refresh_due_us - p.ts_us) / 1e6) AS due_s,
       CASE WHEN p.end_us < p.expiry_us
            THEN 'before the dialog ended ' || printf('%.1f', (p.end_us - p.ts_us) / 1e6) ||
                 ' s after that 2xx'
            ELSE 'before the expiry ' || p.interval_s || ' s after that 2xx' END AS window,
       printf('%.1f', (c.end_us - p.ts_us) / 1e6) AS cap_s,
       CASE WHEN p.bye_msg_id IS NOT NULL THEN
                '; ' || b.src || ' (the ' || b.side || ') sent BYE ' ||
                printf('%.1f', (b.ts_us - p.ts_us) / 1e6) || ' s after that 2xx' ||
                CASE WHEN b.ts_us > p.expiry_us + :tol_us THEN ', after the expiry'
                     ELSE ' (teardown at expiry - min(32 s, SE/3) = ' ||
                          printf('%.0f', (p.bye_due_us - p.ts_us) / 1e6) || ' s)' END
            WHEN p.end_us IS NOT NULL THEN '; the dialog ended ' ||
                printf('%.1f', (p.end_us - p.ts_us) / 1e6) || ' s after that 2xx'
            ELSE '; the dialog was still up, unrefreshed, when the capture ended ' ||
                printf('%.1f', (c.end_us - p.ts_us) / 1e6) || ' s after that 2xx' END AS outcome
FROM p
JOIN t x ON x.txn_id = p.txn_id
JOIN message a ON a.msg_id = p.msg_id
JOIN coverage c ON c.capture_id = a.capture_id
LEFT JOIN m b ON b.msg_id = p.bye_msg_id
WHERE (p.next_us IS NULL OR p.next_us > p.expiry_us)
  AND (p.end_us IS NULL OR p.end_us >= p.bye_due_us - :tol_us)
  AND NOT (p.end_us IS NULL AND c.end_us < p.refresh_due_us + :tol_us)
  AND NOT EXISTS (SELECT 1 FROM txn y
                   WHERE y.dialog_id = p.dialog_id AND y.method IN ('INVITE', 'UPDATE')
                     AND y.uac_side = p.refresher
                     AND y.req_first_us > p.ts_us AND y.req_first_us < p.expiry_us);
