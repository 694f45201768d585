-- id: SIP-ST-008
-- severity: error
-- title: Require: timer / Supported: timer inconsistencies
-- rfc: RFC 4028 §7.1, RFC 4028 §8.1, RFC 4028 §9, RFC 3261 §8.2.4
-- impact: A UAC that does not support session timers is told to refresh (it cannot): the call drops
--   at expiry; strict UACs reject the 2xx.
-- message: {sender} sent {what} {problems}
-- confidence: high
--
-- One row per message, its problems in one sentence:
--   (a) a 2xx to INVITE/UPDATE lists timer in Require although the request (same transaction, same
--       hop) listed timer neither in Supported nor in Require (a Require: timer inserted by a proxy
--       into the request makes it legal [§8.1]) [3261 §8.2.4];
--   (b) a 2xx with Session-Expires;refresher=uac to a request without Supported: timer (RFC 4028
--       Table 2: "NA") [§9];
--   (c) a request (not ACK) with Require: timer or Proxy-Require: timer but without Supported: timer
--       [§7.1].
-- Option tags are matched as tokens of the lower-cased, ", "-joined supported/require/proxy_require
-- columns (so compact k and split header rows count). (d) (a UA that used Session-Expires omitting
-- Supported later: warning) is left out.
WITH one AS MATERIALIZED (   -- one pass over the messages: the requests of (c), the 2xx of (a), (b);
                             -- the three NULL tests first: most rows stop there (no LIKE, no concatenation)
    SELECT x.msg_id, x.is_request, x.dialog_id, x.src, x.method, x.cseq_num, x.status, x.reason,
           x.txn_id, x.require, x.se_refresher, x.session_expires,
           CASE WHEN x.is_request = 1
                THEN (', ' || coalesce(x.proxy_require, '') || ',') LIKE '%, timer,%' END AS preq_timer
    FROM lm x
    WHERE (x.require IS NOT NULL OR x.proxy_require IS NOT NULL OR x.se_refresher IS NOT NULL)
      AND ((x.is_request = 1 AND x.method NOT IN ('ACK', 'CANCEL')
           AND (x.supported IS NULL OR (', ' || x.supported || ',') NOT LIKE '%, timer,%')
           AND ((x.require IS NOT NULL AND (', ' || x.require || ',') LIKE '%, timer,%')
                OR (x.proxy_require IS NOT NULL
                    AND (', ' || x.proxy_require || ',') LIKE '%, timer,%')))
       OR (x.is_request = 0 AND x.status BETWEEN 200 AND 299
           AND ((x.require IS NOT NULL AND (', ' || x.require || ',') LIKE '%, timer,%')
                OR (x.se_refresher IS NOT NULL AND lower(x.se_refresher) = 'uac'))))
),
q AS (   -- requests: (c)
    SELECT x.msg_id, x.dialog_id, x.src, x.method, x.cseq_num, x.msg_id AS req_msg_id,
           (', ' || coalesce(x.require, '') || ',') LIKE '%, timer,%' AS req_timer,
           x.preq_timer
    FROM one x
    WHERE x.is_request = 1
),
fq AS (
    SELECT q.msg_id, q.dialog_id, q.msg_id AS evidence, q.src AS sender,
           q.method || ' (CSeq ' || q.cseq_num || ')' AS what,
           'with ' || CASE WHEN q.req_timer AND coalesce(q.preq_timer, 0)
                           THEN 'Require: timer and Proxy-Require: timer'
                           WHEN q.req_timer THEN 'Require: timer'
                           ELSE 'Proxy-Require: timer' END ||
           ' but without Supported: timer (RFC 4028 §7.1: timer must also be in Supported)'
               AS problems
    FROM q
    WHERE q.req_timer OR coalesce(q.preq_timer, 0)
),
r AS (   -- 2xx: (a), (b)
    SELECT y.msg_id, y.dialog_id, y.src, y.status, y.reason, y.cseq_num, z.method,
           z.req_msg_id,
           (', ' || coalesce(y.require, '') || ',') LIKE '%, timer,%' AS rsp_req_timer,
           lower(coalesce(y.se_refresher, '')) = 'uac' AND y.session_expires IS NOT NULL AS uac_ref,
           (', ' || coalesce(o.supported, '') || ',') LIKE '%, timer,%' AS o_sup,
           (', ' || coalesce(o.require, '') || ',') LIKE '%, timer,%' AS o_req
    FROM one y
    JOIN txn z ON z.txn_id = y.txn_id
    JOIN message o ON o.msg_id = z.req_msg_id
    WHERE y.is_request = 0
      AND z.method IN ('INVITE', 'UPDATE')
),
fr AS (
    SELECT r.msg_id, r.dialog_id, r.msg_id || ' ' || r.req_msg_id AS evidence, r.src AS sender,
           r.status || ' ' || coalesce(r.reason, '') || ' to ' || r.method || ' (CSeq ' ||
           r.cseq_num || ')' AS what,
           substr(
               CASE WHEN r.rsp_req_timer AND NOT r.o_sup AND NOT r.o_req
                    THEN ' and with Require: timer although the request listed timer neither in' ||
                         ' Supported nor in Require (RFC 3261 §8.2.4)' ELSE '' END ||
               CASE WHEN r.uac_ref AND NOT r.o_sup
                    THEN ' and with Session-Expires;refresher=uac, making the UAC the refresher' ||
                         ' although its request did not list timer in Supported (RFC 4028 §9,' ||
                         ' Table 2)' ELSE '' END,
               6) AS problems
    FROM r
    WHERE (r.rsp_req_timer AND NOT r.o_sup AND NOT r.o_req) OR (r.uac_ref AND NOT r.o_sup)
)
SELECT * FROM fq
UNION ALL
SELECT * FROM fr;
