-- id: SIP-ST-006
-- severity: error
-- title: Session-Expires / Min-SE value violations
-- rfc: RFC 4028 §4, RFC 4028 §5, RFC 4028 §7.1, RFC 4028 §8.1, RFC 4028 §9, RFC 3261 §20
-- impact: Refreshes at very short intervals (load, glare) or 422 loops; strict peers reject the call.
-- message: {sender} sent {what} with {problems}
-- confidence: high
--
-- One row per message (all its violations in one sentence), on INVITE/UPDATE requests, 2xx to them,
-- and any response carrying Min-SE:
--   Session-Expires < 90 [§4]; Min-SE < 90 [§5];
--   request: Session-Expires (>= 90) < its own Min-SE [§7.1, §8.1] -- not for a retry after a 422
--     on the same Call-ID/From tag: SIP-ST-005 (c) takes over;
--   2xx: Session-Expires (>= 90) > the request's on the same hop (a UAS may lower, never raise) or
--     < the request's Min-SE [§9]; the request and the 2xx are one transaction, so one hop;
--   Min-SE in a response other than 422 [§5].
-- Severity: error, except a message whose only problem is the Min-SE in a non-422 response:
-- RFC 4028 §5 lists Min-SE only in requests and 422, and RFC 3261 §20 says the UAC MUST
-- ignore a header "not applicable" to a response, so the session timer is not affected:
-- warning (corpus: ntop__nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap, Min-SE: 90 in every 200 OK
-- of the callee and of the SBC).
-- One message, one finding (RULES.md A.9.4): a proxy (or an element that does not even add a
-- Via, as in that capture) relays the message unchanged, so its copies on other hops of the
-- same dialog (same dialog, CSeq, status, To tag, values and problems) are merged into one
-- finding, anchored on the earliest copy, with every copy as evidence.
-- Left out: Session-Expires in methods/responses outside Table 1 and intervals below 1800 (both
-- SHOULD-level).
WITH sx AS (   -- the messages with Session-Expires or Min-SE (rules/prelude.sql)
    SELECT msg_id FROM msg_mark WHERE session_timer
), c AS (
    SELECT x.msg_id, x.dialog_id, x.src, x.is_request, x.to_tag, x.method, x.status, x.reason, x.cseq_num,
           x.cseq_method, x.session_expires AS se, x.min_se, x.call_id, x.from_tag, x.ts_us,
           q.msg_id AS req_msg_id, q.session_expires AS req_se, q.min_se AS req_min_se
    FROM sx
    JOIN lm x ON x.msg_id = sx.msg_id
    LEFT JOIN txn z ON z.txn_id = x.txn_id AND x.is_request = 0
    LEFT JOIN message q ON q.msg_id = z.req_msg_id
    WHERE (x.session_expires IS NOT NULL OR x.min_se IS NOT NULL)
      AND ((x.is_request = 1 AND x.method IN ('INVITE', 'UPDATE'))
           OR (x.is_request = 0 AND x.status BETWEEN 200 AND 299
               AND x.cseq_method IN ('INVITE', 'UPDATE'))
           OR (x.is_request = 0 AND x.min_se IS NOT NULL))
),
v AS (
    SELECT c.*,
           CASE WHEN c.se < 90 AND (c.is_request = 1 OR c.status BETWEEN 200 AND 299)
                THEN '; Session-Expires ' || c.se || ', below the 90 s minimum' ELSE '' END ||
           CASE WHEN c.min_se < 90 AND (c.is_request = 1 OR c.status = 422)
                THEN '; Min-SE ' || c.min_se || ', below the 90 s minimum' ELSE '' END ||
           CASE WHEN c.is_request = 1 AND c.se >= 90 AND c.se < c.min_se
                     AND NOT EXISTS (SELECT 1 FROM txn r
                                      WHERE r.call_id = c.call_id AND r.from_tag = c.from_tag
                                        AND r.final_status = 422 AND r.req_first_us < c.ts_us)
                THEN '; Session-Expires ' || c.se || ', below its own Min-SE ' || c.min_se
                ELSE '' END ||
           CASE WHEN c.is_request = 0 AND c.status BETWEEN 200 AND 299 AND c.se >= 90
                     AND c.se > c.req_se
                THEN '; Session-Expires ' || c.se || ', larger than the ' || c.req_se ||
                     ' of the request (a UAS may lower it, never raise it)' ELSE '' END ||
           CASE WHEN c.is_request = 0 AND c.status BETWEEN 200 AND 299 AND c.se >= 90
                     AND c.se < c.req_min_se
                THEN '; Session-Expires ' || c.se || ', below the request''s Min-SE ' ||
                     c.req_min_se ELSE '' END ||
           CASE WHEN c.is_request = 0 AND c.status <> 422 AND c.min_se IS NOT NULL
                THEN '; a Min-SE header (' || c.min_se || ') that only a 422 may carry'
                     || ' (the receiver must ignore it)'
                ELSE '' END AS p
    FROM c
),
g AS (
    SELECT v.*,
           row_number() OVER k AS nth,
           group_concat(v.msg_id || coalesce(' ' || v.req_msg_id, ''), ' ')
               OVER (k ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS all_ev,
           count(*) OVER (k ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS copies
    FROM v
    WHERE v.p <> ''
    WINDOW k AS (PARTITION BY coalesce(v.dialog_id, -1), v.call_id, v.from_tag, v.is_request,
                              v.method, v.status, v.cseq_num, v.cseq_method, v.to_tag, v.se,
                              v.min_se, v.p
                 ORDER BY v.ts_us, v.msg_id)
)
SELECT v.msg_id,
       v.dialog_id,
       v.all_ev AS evidence,
       CASE WHEN v.p LIKE '; a Min-SE header%' THEN 'warning' ELSE 'error' END AS severity,
       v.src || CASE WHEN v.copies > 1 THEN ' (one message, seen on ' || v.copies || ' hops)'
                     ELSE '' END AS sender,
       CASE WHEN v.is_request = 1 THEN v.method || ' (CSeq ' || v.cseq_num || ')'
            ELSE v.status || ' ' || coalesce(v.reason, '') || ' to ' || v.cseq_method ||
                 ' (CSeq ' || v.cseq_num || ')' END AS what,
       substr(v.p, 3) AS problems
FROM g v
WHERE v.nth = 1;
