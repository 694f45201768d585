-- id: SIP-DLG-004
-- severity: warning
-- title: In-dialog request challenged (401/407) and not successfully resubmitted
-- rfc: RFC 3261 §22.2, RFC 3261 §22.3, RFC 3261 §8.1.3.5, RFC 5057 §5.1
-- impact: The re-INVITE, UPDATE or BYE never succeeds: hold or transfer fails, the session timer
--   expires (drop at expiry), or a lost BYE leaves a hung call that keeps being billed.
-- message: {responder} challenged the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason}{foreign_note} and {outcome} within 64*T1 ({t1_ms} ms T1){after}
-- inconclusive: {responder} challenged the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason}; the capture ends before 64*T1 ({t1_ms} ms T1) had passed, so whether it was
--   resubmitted with credentials is not known
--
-- X = an in-dialog transaction (not CANCEL: a challenge to CANCEL is SIP-CAN-008, not ACK) whose
-- final is 401/407.  A successful resubmission Y (RFC 3261 §22.2, §8.1.3.5, G9) is: same dialog,
-- same sender side, same method, higher CSeq, credentials present (has_auth), sent less than
-- 64*T1 after X's challenge, answered 2xx.  Y is looked for on every hop of the dialog (the
-- resubmission may be visible only on another hop, G6).  If none: one finding per X.  Chains
-- (401, resubmission challenged again with a stale nonce, third try 200) are quiet because the
-- third try is within the window of both earlier challenges.
-- The window ends at 64*T1 after the challenge, or earlier when the dialog ended (BYE, 481/408,
-- timeout): then no resubmission can come any more.  When the capture stops before the end of
-- the window (plus the tolerance) and the dialog is still up, or a resubmission with credentials
-- is still without an answer at the end of the capture, the row is inconclusive (G3).
-- Severity: error when X is a BYE (the call is never released), when X is a session refresh (a
-- re-INVITE/UPDATE while a session timer armed by a 2xx runs: the session then expires, RULES.md
-- SIP-ST-003), or when SIP-DLG-001 fires on the same transaction (the challenge came with a
-- foreign To tag: the UAS treated the request as a new call); warning otherwise (a proxy may legitimately challenge in-dialog requests).
-- Evidence: X's request and challenge, the failed resubmission(s) with credentials, and the
-- first BYE of the dialog after the challenge.
-- A final that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same final status) is reported once, on the hop next to the UA that produced it (A.9.4).
WITH x AS (
    SELECT t.*,
           t.first_final_us + 64 * :t1_us AS window_end,
           d.terminated_us, d.term_cause,
           rq.from_uri, rq.to_uri, rq.via_count
    FROM t
    JOIN message rq ON rq.msg_id = t.req_msg_id
    LEFT JOIN dialog d ON d.dialog_id = t.dialog_id
    WHERE t.in_dialog = 1
      AND t.kind IN ('INVITE', 'NONINVITE')
      AND t.method <> 'CANCEL'
      AND t.final_status IN (401, 407)
      AND NOT EXISTS (SELECT 1 FROM txn c   -- relayed by a proxy from the next hop: reported there
                      WHERE c.dialog_id = t.dialog_id AND c.parent_txn_id = t.txn_id
                        AND c.final_status = t.final_status)
),
y AS (  -- resubmissions with credentials inside the window
    SELECT x.txn_id AS x_id, r.txn_id, r.req_msg_id, r.final_status, r.end_reason
    FROM x
    JOIN txn r ON r.dialog_id = x.dialog_id AND r.uac_side = x.uac_side AND r.method = x.method
              AND r.cseq_num > x.cseq_num AND r.txn_id <> x.txn_id
              AND r.req_first_us >= x.first_final_us
              AND r.req_first_us < x.window_end
    JOIN message rm ON rm.msg_id = r.req_msg_id AND rm.has_auth = 1
),
z AS (
    SELECT x.*,
           (SELECT group_concat(y.req_msg_id, ' ') FROM y WHERE y.x_id = x.txn_id) AS tries,
           (SELECT count(*) FROM y WHERE y.x_id = x.txn_id) AS n_tries,
           EXISTS (SELECT 1 FROM y WHERE y.x_id = x.txn_id AND y.final_status IS NULL
                   AND y.end_reason = 'capture_end') AS try_open,
           (SELECT b.req_msg_id FROM txn b
            WHERE b.dialog_id = x.dialog_id AND b.method = 'BYE' AND b.req_first_us > x.first_final_us
            ORDER BY b.req_first_us LIMIT 1) AS bye_msg,
           EXISTS (SELECT 1 FROM txn_response f
                   WHERE f.txn_id = x.txn_id AND f.status <> 100 AND f.to_tag <> x.req_to_tag
                     AND NOT (x.rfc2543 = 1 AND f.to_tag = '')) AS foreign_tag,
           CASE WHEN x.terminated_us IS NOT NULL AND x.term_cause <> 'capture_end'
                     AND x.terminated_us <= x.window_end THEN 1 ELSE 0 END AS ended,
           -- a re-INVITE/UPDATE while a session timer runs is a session refresh (RFC 4028 §7.2)
           x.method IN ('INVITE', 'UPDATE') AND EXISTS (
               SELECT 1 FROM session_timer s
               WHERE s.dialog_id = x.dialog_id AND s.kind = 'armed' AND s.ts_us < x.req_first_us
                 AND s.expiry_us > x.req_first_us
                 AND NOT EXISTS (SELECT 1 FROM session_timer n
                                 WHERE n.dialog_id = s.dialog_id AND n.kind IN ('armed', 'disarmed')
                                   AND n.ts_us > s.ts_us AND n.ts_us < x.req_first_us)) AS refresh
    FROM x
    WHERE NOT EXISTS (SELECT 1 FROM y WHERE y.x_id = x.txn_id AND y.final_status BETWEEN 200 AND 299)
)
SELECT z.final_msg_id AS msg_id,
       z.dialog_id,
       z.req_msg_id || coalesce(' ' || z.tries, '') || coalesce(' ' || z.bye_msg, '') AS evidence,
       CASE WHEN z.method = 'BYE' OR z.foreign_tag OR z.refresh THEN 'error' ELSE 'warning' END AS severity,
       CASE WHEN z.try_open THEN 1
            WHEN z.ended = 0 AND c.end_us < z.window_end + :tol_us THEN 1
            ELSE 0 END AS inconclusive,
       CASE WHEN instr(z.to_uri, '@') > 0
            THEN substr(z.to_uri, instr(z.to_uri, ':') + 1, instr(z.to_uri, '@') - instr(z.to_uri, ':') - 1)
                 || ' (' || z.uas || ')'
            ELSE z.uas END AS responder,
       CASE WHEN instr(z.from_uri, '@') > 0
            THEN substr(z.from_uri, instr(z.from_uri, ':') + 1, instr(z.from_uri, '@') - instr(z.from_uri, ':') - 1)
                 || CASE WHEN z.via_count > 1 THEN ' (via ' ELSE ' (' END || z.uac || ')'
            ELSE z.uac END AS requester,
       CASE z.method WHEN 'INVITE' THEN 're-INVITE' ELSE z.method END AS request,
       z.cseq_num AS cseq,
       z.final_status AS status,
       rs.reason,
       CASE WHEN z.foreign_tag THEN ' carrying a new To tag (' || z.final_to_tag || ', dialog tag '
                                    || z.req_to_tag || ')' ELSE '' END AS foreign_note,
       CASE WHEN z.n_tries = 0 THEN 'the request was not resubmitted with credentials'
            ELSE 'no resubmission with credentials succeeded (' || z.n_tries || ' tried)' END AS outcome,
       CASE WHEN z.bye_msg IS NOT NULL THEN '; the dialog was then ended with BYE'
            WHEN z.ended = 1 THEN '; the dialog then ended'
            ELSE '' END AS after
FROM z
JOIN message rs ON rs.msg_id = z.final_msg_id
LEFT JOIN coverage c ON c.capture_id = z.capture_id;
