-- id: SIP-ST-007
-- severity: error
-- title: Session-Expires in a 2xx without a valid refresher parameter
-- rfc: RFC 4028 §9, RFC 4028 §8.2, RFC 4028 §4
-- impact: The two sides disagree on who refreshes: typically nobody does, and the call drops at
--   expiry.
-- message: {sender} answered {method} (CSeq {cseq}) with {status} {reason} carrying Session-Expires
--   {se} {problem}
-- confidence: high
--
-- 2xx to INVITE/UPDATE with Session-Expires whose refresher parameter is missing or is not the
-- token uac or uas (case-insensitive). Attribution (trap: blame the element that emitted it): when
-- the request was forwarded to a further hop (txn parent_txn_id) whose 2xx has the same fault, only
-- that hop -- nearer to the UAS -- is reported. session_timer leaves such a period's refresher NULL,
-- so SIP-ST-001..003 say nothing about it (this rule takes over); SIP-ST-004 still reports a BYE
-- near its expiry, with the refresher unknown.
WITH sx AS (   -- the messages with Session-Expires or Min-SE (rules/prelude.sql)
    SELECT msg_id FROM msg_mark WHERE session_timer
)
SELECT r.msg_id,
       r.dialog_id,
       r.msg_id || ' ' || x.req_msg_id AS evidence,
       r.src AS sender,
       x.method AS method,
       r.cseq_num AS cseq,
       r.status AS status,
       coalesce(r.reason, '') AS reason,
       r.session_expires AS se,
       CASE WHEN r.se_refresher IS NULL OR r.se_refresher = ''
            THEN 'but no refresher parameter (RFC 4028 §9: the UAS must set refresher=uac or uas)'
            ELSE 'with refresher=' || r.se_refresher || ', neither uac nor uas' END AS problem
FROM sx
JOIN lm r ON r.msg_id = sx.msg_id
JOIN t x ON x.txn_id = r.txn_id
WHERE r.is_request = 0 AND r.status BETWEEN 200 AND 299
  AND x.method IN ('INVITE', 'UPDATE')
  AND r.session_expires IS NOT NULL
  AND lower(coalesce(r.se_refresher, '')) NOT IN ('uac', 'uas')
  AND NOT EXISTS (SELECT 1 FROM txn ch JOIN message cr ON cr.txn_id = ch.txn_id
                   WHERE ch.parent_txn_id = x.txn_id AND cr.is_request = 0
                     AND cr.status BETWEEN 200 AND 299 AND cr.session_expires IS NOT NULL
                     AND lower(coalesce(cr.se_refresher, '')) NOT IN ('uac', 'uas'))
ORDER BY r.msg_id;   -- the order of a scan of message: the same rows listed under the cap
