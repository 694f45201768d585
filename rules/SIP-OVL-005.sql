-- id: SIP-OVL-005
-- severity: warning
-- title: 491 retry timing outside the RFC window
-- rfc: RFC 3261 §14.1, RFC 3311 §5.3, RFC 5407 §3.3.1
-- impact: Both sides may retry at the same moment and collide again (repeated glare): the
--   session change never lands, and a refresh lost this way ends the call at session expiry.
-- message: The {side} {sender}, {role} of the Call-ID, sent its next {method} (CSeq {cseq})
--   {delay_s} s after the 491 to its {r_method} (CSeq {r_cseq}); RFC 3261 §14.1 gives the {role}
--   {window} s
-- confidence: medium
--
-- RULES.md B.4 SIP-OVL-005.  After side s receives 491 to an in-dialog INVITE or UPDATE R (time
-- t491 = R's first final), the next in-dialog INVITE or UPDATE that s sends in the same dialog is
-- its retry; delta = its send time - t491.  RFC 3261 §14.1 (and RFC 3311 §5.3 for UPDATE): the
-- owner of the Call-ID (the side that sent the dialog-creating request, i.e. the caller) waits
-- 2.1 to 4.0 s, the other side 0 to 2.0 s.  Reported when delta is below the window's lower
-- bound - tol or above its upper bound + tol (G5).
-- Only delays up to 64*T1 count as a late retry: a UA may drop the change altogether ("if it
-- still desires" the modification, §14.1), and an INVITE much later (a session refresh, a new
-- hold) is a new request, not a late retry.  A request sent after the dialog ended is left to
-- SIP-IND-003.  Skipped: partial dialogs (G4: the Call-ID owner is unknown).  Not checked:
-- "both sides used the same window" in one glare episode, which already makes one of the two
-- retries fall outside its own window.  Per hop: R and the retry where they were first seen
-- (no parent transaction, the hop nearest s): one finding through a proxy (G6), and the
-- upper bound gets no extra RTT (the capture is taken as adjacent to s, A.9.5).
WITH r AS (
    SELECT t.txn_id, t.dialog_id, t.uac_side, t.uac, t.method, t.cseq_num, t.req_msg_id,
           t.first_final_us AS t491, t.final_msg_id, t.ack_msg_id, d.terminated_us
    FROM t
    JOIN dialog d ON d.dialog_id = t.dialog_id
    WHERE t.kind IN ('INVITE', 'NONINVITE') AND t.method IN ('INVITE', 'UPDATE')
      AND t.in_dialog = 1 AND t.final_status = 491 AND t.parent_txn_id IS NULL
      AND d.partial = 0
),
nxt AS (
    SELECT r.*,
           (SELECT n.txn_id FROM txn n
            WHERE n.dialog_id = r.dialog_id AND n.kind IN ('INVITE', 'NONINVITE')
              AND n.method IN ('INVITE', 'UPDATE') AND n.in_dialog = 1
              AND n.uac_side = r.uac_side AND n.parent_txn_id IS NULL
              AND n.req_first_us > r.t491
            ORDER BY n.req_first_us LIMIT 1) AS n_txn
    FROM r
),
timed AS (
    SELECT x.*, n.req_msg_id AS n_msg, n.method AS n_method, n.cseq_num AS n_cseq,
           n.final_msg_id AS n_final, n.req_first_us - x.t491 AS delta,
           CASE WHEN x.uac_side = 'caller' THEN 2100000 ELSE 0 END AS lo,
           CASE WHEN x.uac_side = 'caller' THEN 4000000 ELSE 2000000 END AS hi,
           n.req_first_us AS n_us
    FROM nxt x
    JOIN txn n ON n.txn_id = x.n_txn
)
SELECT n_msg AS msg_id,
       dialog_id,
       req_msg_id || ' ' || final_msg_id || ' ' || coalesce(ack_msg_id, '') || ' ' ||
           n_msg || ' ' || coalesce(n_final, '') AS evidence,
       uac_side AS side,
       uac AS sender,
       CASE uac_side WHEN 'caller' THEN 'owner' ELSE 'non-owner' END AS role,
       CASE uac_side WHEN 'caller' THEN '2.1-4.0' ELSE '0-2.0' END AS window,
       n_method AS method,
       n_cseq AS cseq,
       method AS r_method,
       cseq_num AS r_cseq,
       printf('%.2f', delta / 1000000.0) AS delay_s
FROM timed
WHERE (delta < lo - :tol_us OR (delta > hi + :tol_us AND delta <= 64 * :t1_us))
  AND (terminated_us IS NULL OR n_us < terminated_us)
ORDER BY n_msg;
