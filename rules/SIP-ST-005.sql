-- id: SIP-ST-005
-- severity: error
-- title: 422 handling broken or 422 loop
-- rfc: RFC 4028 §6, RFC 4028 §7.1, RFC 4028 §7.4, RFC 4028 §8.1, RFC 4028 §9
-- impact: Call setup (or the refresh) never completes: INVITE/422 ping-pong, or the call fails with
--   422 to the caller.
-- message: {sender} {problem}
-- confidence: high
--
-- The INVITE/UPDATE transactions of one sender (Call-ID, From tag, To tag: before the dialog per
-- Call-ID, after it per dialog) on one hop, in time order, on Call-IDs that saw a 422. One row per
-- 422 with its problems: (a) no Min-SE [§6]; (d) the 3rd 422 in a row whose Min-SE did not grow
-- (several timer-aware proxies may each raise Min-SE legitimately); (e) the request did not list
-- timer in Supported [§8.1, §9] -- warning when (e) is its only problem. One row per retry (the
-- request after a 422): (b) Min-SE missing or below the largest Min-SE of the 422s so far [§7.4];
-- (c) Session-Expires below max(its own Min-SE, that largest Min-SE) [§7.1] (SIP-ST-006 leaves
-- retries to this rule). (f) (CSeq/Call-ID of the retry, info) is left out. Auth challenges
-- interleaved (G9) are not 422 and do not break a run.
WITH r AS (
    SELECT x.txn_id, x.uac, x.uas, x.method, x.cseq_num, x.req_msg_id, x.final_status,
           x.final_msg_id, x.dialog_id,
           q.session_expires AS se, q.min_se AS req_min_se,
           (', ' || coalesce(q.supported, '') || ',') LIKE '%, timer,%' AS sup_timer,
           CASE WHEN x.final_status = 422 THEN f.min_se END AS f_min_se,
           lag(x.final_status) OVER w AS prev_status,
           lag(x.final_msg_id) OVER w AS prev_final_msg_id,
           max(CASE WHEN x.final_status = 422 THEN f.min_se END)
               OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS max_min_se,
           sum(CASE WHEN x.final_status = 422 THEN 0 ELSE 1 END)
               OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp,
           x.call_id, x.from_tag, x.req_to_tag, x.req_first_us
    FROM t x
    JOIN message q ON q.msg_id = x.req_msg_id
    LEFT JOIN message f ON f.msg_id = x.final_msg_id
    WHERE x.method IN ('INVITE', 'UPDATE') AND x.kind IN ('INVITE', 'NONINVITE')
      AND x.call_id IN (SELECT call_id FROM txn WHERE final_status = 422)
    WINDOW w AS (PARTITION BY x.call_id, x.from_tag, x.req_to_tag, x.uac, x.uas
                 ORDER BY x.req_first_us)
),
k AS (   -- position of each 422 in its run of consecutive 422s, and the previous 422's Min-SE
    SELECT r.*,
           CASE WHEN r.final_status = 422 THEN
               sum(r.final_status = 422)
                   OVER (PARTITION BY r.call_id, r.from_tag, r.req_to_tag, r.uac, r.uas, r.grp
                         ORDER BY r.req_first_us ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               END AS run_pos,
           lag(r.f_min_se) OVER (PARTITION BY r.call_id, r.from_tag, r.req_to_tag, r.uac, r.uas
                                 ORDER BY r.req_first_us) AS prev_f_min_se
    FROM r
),
fault422 AS (
    SELECT k.final_msg_id AS msg_id, k.dialog_id, k.req_msg_id || ' ' || k.final_msg_id AS evidence,
           k.uas AS sender,
           CASE WHEN k.f_min_se IS NOT NULL
                     AND NOT (k.run_pos >= 3 AND k.run_pos = k.first_loop_pos) THEN 'warning' END
               AS severity,
           'answered ' || k.method || ' (CSeq ' || k.cseq_num || ', Session-Expires ' ||
           coalesce(k.se, 'none') || ') with 422' ||
           substr(
               CASE WHEN k.f_min_se IS NULL THEN ', without the Min-SE header RFC 4028 §6 requires'
                    ELSE '' END ||
               CASE WHEN k.run_pos >= 3 AND k.run_pos = k.first_loop_pos
                    THEN ' (' || k.run_pos || ' in a row to this sender; Min-SE ' ||
                         coalesce(k.f_min_se, 'none') || ' not above the previous 422''s ' ||
                         coalesce(k.prev_f_min_se, 'none') || ': a 422 loop)' ELSE '' END ||
               CASE WHEN NOT k.sup_timer
                    THEN ', although the request did not list timer in Supported' ELSE '' END,
               1) AS problem
    FROM (SELECT k.*,
                 min(CASE WHEN k.run_pos >= 3 AND NOT coalesce(k.f_min_se > k.prev_f_min_se, 0)
                          THEN k.run_pos END)
                     OVER (PARTITION BY k.call_id, k.from_tag, k.req_to_tag, k.uac, k.uas, k.grp)
                     AS first_loop_pos
          FROM k) k
    WHERE k.final_status = 422
      AND (k.f_min_se IS NULL OR NOT k.sup_timer
           OR (k.run_pos >= 3 AND k.run_pos = k.first_loop_pos))
),
faultretry AS (
    SELECT k.req_msg_id AS msg_id, k.dialog_id, k.prev_final_msg_id || ' ' || k.req_msg_id AS evidence,
           k.uac AS sender,
           NULL AS severity,
           'retried ' || k.method || ' (CSeq ' || k.cseq_num || ') after 422 Min-SE ' ||
           k.max_min_se || ' with ' ||
           substr(
               CASE WHEN k.req_min_se IS NULL THEN '; no Min-SE header (RFC 4028 §7.4 requires the 422''s)'
                    WHEN k.req_min_se < k.max_min_se
                    THEN '; Min-SE ' || k.req_min_se || ', below the ' || k.max_min_se ||
                         ' of the 422' ELSE '' END ||
               CASE WHEN k.se < max(coalesce(k.req_min_se, 0), k.max_min_se)
                    THEN '; Session-Expires ' || k.se || ', below the Min-SE ' ||
                         max(coalesce(k.req_min_se, 0), k.max_min_se) ELSE '' END,
               3) AS problem
    FROM k
    WHERE k.prev_status = 422 AND k.max_min_se IS NOT NULL
      AND (k.req_min_se IS NULL OR k.req_min_se < k.max_min_se
           OR k.se < max(coalesce(k.req_min_se, 0), k.max_min_se))
)
SELECT * FROM fault422
UNION ALL
SELECT * FROM faultretry;
