-- id: SIP-CSEQ-005
-- severity: info
-- title: CSeq gap within a dialog direction
-- rfc: RFC 3261 §12.2.2, RFC 3261 §12.2.1.1
-- impact: None by itself (the receiver must accept gaps); it points at challenges on another hop,
--   requests that were not captured, or a UA that skips numbers.
-- message: {sender} went from CSeq {prev_cseq} ({prev_method}) to CSeq {cseq} ({method}) in its
--   requests to {receiver} in this dialog, skipping {skipped}; {why}
-- confidence: high
--
-- Same evaluation set as SIP-CSEQ-001: R(D, side, hop), the transactions of dialog D sent by
-- one side on one hop, without ACK and CANCEL, first copies only (G1, G2).  A row fires when
-- its number is more than one above the highest number the side used before on that hop
-- (after 1, 5, 3 the 6 is no gap: the 3 was the decrease, SIP-CSEQ-001).  Partial dialogs
-- (G4): the first captured request has no baseline and never fires.
-- The likely reason (RULES.md G9, G6, G10) is looked up in the call (leg) of the dialog, by the
-- missing numbers: a 401/407 answering a request of that side (a proxy on another hop
-- challenged it, and it was resubmitted with the next number), a request of that side with
-- such a number seen on another hop or in another dialog of the same call (fork), or
-- nothing: the UA skips numbers, or the requests took a path that was not captured.
WITH dtx AS (   -- (dialog, transaction) pairs; only the dialogs where a CSEQ rule can fire (prelude)
    SELECT dialog_id, txn_id FROM cseq_dialog_txn
), r AS (
    SELECT d.dialog_id, t.txn_id, t.leg_id, t.call_id, t.uac_side AS side, t.uac, t.uas, t.transport,
           t.method, t.in_dialog, t.cseq_num, t.req_msg_id, t.req_first_us,
           max(printf('%012d %d', t.cseq_num, t.req_msg_id)) OVER w AS prev_top
    FROM dtx d JOIN t ON t.txn_id = d.txn_id
    WHERE t.kind IN ('INVITE', 'NONINVITE') AND t.method NOT IN ('ACK', 'CANCEL')
      AND t.cseq_num IS NOT NULL AND t.uac_side IN ('caller', 'callee')
    WINDOW w AS (PARTITION BY d.dialog_id, t.uac_side, min(t.uac, t.uas), max(t.uac, t.uas), t.transport
                 ORDER BY t.req_first_us, t.req_msg_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), gap AS (
    SELECT r.*, CAST(substr(prev_top, 1, 12) AS INTEGER) AS prev_cseq,
           CAST(substr(prev_top, 14) AS INTEGER) AS prev_msg_id
    FROM r WHERE prev_top IS NOT NULL AND r.in_dialog = 1 AND r.cseq_num > CAST(substr(prev_top, 1, 12) AS INTEGER) + 1
), seen AS (
    -- messages of the same call that used a missing number, for the side that skipped it:
    -- 401/407 answers to its requests anywhere, its requests on other hops or in other dialogs
    SELECT g.req_msg_id AS gap_msg, g.dialog_id AS gap_dialog, x.msg_id, x.is_request, x.status,
           x.cseq_num, x.dialog_id, x.src, x.dst, x.ts_us
    FROM gap g
    JOIN lm x ON x.leg_id = g.leg_id   -- the leg's messages are its Call-ID's (NULL when it had none)
             AND (x.call_id = g.call_id OR (x.call_id IS NULL AND g.call_id = ''))
    JOIN txn xt ON xt.txn_id = x.txn_id
    WHERE x.cseq_num > g.prev_cseq AND x.cseq_num < g.cseq_num
      AND x.cseq_method NOT IN ('ACK', 'CANCEL')
      AND xt.uac_side = g.side
      AND ((x.is_request = 0 AND x.status IN (401, 407))
           OR (x.is_request = 1 AND NOT (x.dialog_id IS g.dialog_id
                                         AND min(x.src, x.dst) = min(g.uac, g.uas)
                                         AND max(x.src, x.dst) = max(g.uac, g.uas))))
), why AS (
    SELECT gap_msg,
           (SELECT 'a ' || s.status || ' challenge to CSeq ' || s.cseq_num || ' was seen on the hop '
                   || s.src || ' -> ' || s.dst || ' (the request was resubmitted with a new number)'
            FROM seen s WHERE s.gap_msg = g2.gap_msg AND s.is_request = 0
            ORDER BY s.ts_us LIMIT 1) AS challenge,
           (SELECT 'CSeq ' || s.cseq_num || ' was used '
                   || CASE WHEN s.dialog_id IS s.gap_dialog THEN 'on another hop (' || s.src || ' -> ' || s.dst || ')'
                           ELSE 'in another dialog of this call' END
            FROM seen s WHERE s.gap_msg = g2.gap_msg AND s.is_request = 1
            ORDER BY s.ts_us LIMIT 1) AS other,
           (SELECT group_concat(msg_id, ' ') FROM seen s WHERE s.gap_msg = g2.gap_msg) AS ev
    FROM (SELECT DISTINCT gap_msg FROM seen) g2
)
SELECT g.req_msg_id AS msg_id,
       g.prev_msg_id || ' ' || g.req_msg_id || coalesce(' ' || w.ev, '') AS evidence,
       g.dialog_id,
       g.uac || ' (' || g.side || ')' AS sender,
       g.uas AS receiver,
       CASE WHEN g.method = 'INVITE' AND g.in_dialog = 1 THEN 're-INVITE' ELSE g.method END AS method,
       g.cseq_num AS cseq,
       g.prev_cseq,
       CASE WHEN p.method = 'INVITE' AND p.to_tag <> '' THEN 're-INVITE' ELSE p.method END AS prev_method,
       CASE WHEN g.cseq_num - g.prev_cseq = 2 THEN '1 number' ELSE (g.cseq_num - g.prev_cseq - 1) || ' numbers' END
           AS skipped,
       coalesce(w.challenge, w.other,
                'no request with a number in between was captured: the UA skips numbers, or such requests '
                || 'took a path that was not captured (a gap is legal, RFC 3261 §12.2.2)') AS why
FROM gap g
JOIN m p ON p.msg_id = g.prev_msg_id
LEFT JOIN why w ON w.gap_msg = g.req_msg_id
ORDER BY g.req_msg_id;
