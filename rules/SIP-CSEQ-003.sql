-- id: SIP-CSEQ-003
-- severity: error
-- title: ACK CSeq does not match the INVITE
-- rfc: RFC 3261 §13.2.2.4, RFC 3261 §17.1.1.3
-- impact: The UAS cannot match the ACK: it keeps retransmitting its final response, and after a
--   2xx it sends BYE after 64*T1 (see SIP-ACK-001).
-- message: {sender} acknowledged {acked} with an ACK to {receiver} carrying 'CSeq: {ack_cseq}'
--   instead of 'CSeq: {inv_cseq} ACK'
-- confidence: high
--
-- Every logical ACK (first copies: G1, G2) is checked:
-- * ACK of a non-2xx final (RFC 3261 §17.1.1.3): the INVITE transaction on the same hop (same
--   source and destination) with the same branch and Call-ID that ended with a final >= 300
--   (a Via sent-by that differs from the INVITE's is SIP-ACK-004's, not a reason to miss it).
--   It is looked up by those columns and not through txn.ack_msg_id (the transaction engine
--   links such an ACK too, as RFC 3261 §17.2.3 does, by branch and sent-by; the column
--   lookup also covers an ACK whose sent-by differs).  Fires when its number differs from the INVITE's or its
--   CSeq method is not ACK.  Branches without the RFC 3261 cookie do not identify the
--   transaction (G14) and are not used.
-- * any other ACK in a dialog is an ACK of a 2xx (RFC 3261 §13.2.2.4): fires when its CSeq
--   method is not ACK, or when its number is the number of no INVITE from the same side that
--   had received a 2xx in this dialog (on any hop: the ACK of a 2xx travels end to end and may
--   take another path) before the ACK.  The expected number shown is the latest such INVITE.
--   Partial dialogs (G4): an ACK is checked only when a 2xx to an INVITE of its side was
--   captured before it, so the ACK of an INVITE sent before the capture started is skipped.
-- A CSeq method other than ACK is reported here, not by SIP-CSEQ-008 (which skips ACK).
-- How, without checking every ACK in full (RULES.md and the result are those of the check of every
-- ACK): most ACKs are the ACK of a 2xx whose dialog, side and CSeq number are those of a 2xx seen
-- before it.  keyed reads the logical ACKs and 2xx answers to INVITEs of all dialogs from the index
-- message_txn (a response's side is the answerer: the INVITE's sender is the other one); a group
-- (dialog, INVITE sender's side, number) whose ACKs all carry CSeq method ACK and all come after
-- its first 2xx cannot fire.  The ACKs of the other groups are checked in full, and so are the
-- ACKs that may belong to a failed INVITE: those with its Call-ID and branch (an ACK carries the
-- key of the transaction it joins, txn.ack_msg_id, or makes one, kind ACK2XX; lib/txn) and those
-- without a transaction.

WITH keyed AS (   -- logical ACKs and 2xx answers to INVITEs in dialogs
    SELECT msg_id, is_request, dialog_id, cseq_num, ts_us,
           CASE WHEN is_request = 1 THEN side
                WHEN side = 'caller' THEN 'callee' WHEN side = 'callee' THEN 'caller' END AS inv_side,
           is_request = 1 AND cseq_method IS NOT 'ACK' AS bad_method
    FROM lm
    WHERE dialog_id IS NOT NULL
      AND ((is_request = 1 AND method = 'ACK')
           OR (is_request = 0 AND status BETWEEN 200 AND 299 AND cseq_method = 'INVITE'
               AND txn_id IS NOT NULL))
), unclean AS (
    SELECT dialog_id, inv_side, cseq_num FROM keyed
    GROUP BY dialog_id, inv_side, cseq_num
    HAVING max(is_request) = 1
       AND NOT coalesce(cseq_num IS NOT NULL AND max(bad_method) = 0
                        AND min(CASE WHEN is_request = 1 THEN ts_us END)
                            >= min(CASE WHEN is_request = 0 THEN ts_us END), 0)
), cand AS (
    SELECT k.msg_id FROM unclean u
    JOIN keyed k ON k.dialog_id = u.dialog_id AND k.inv_side IS u.inv_side AND k.cseq_num IS u.cseq_num
    WHERE k.is_request = 1
    UNION
    SELECT CASE y.kind WHEN 'ACK2XX' THEN y.req_msg_id ELSE y.ack_msg_id END
    FROM txn fx JOIN txn y ON y.call_id = fx.call_id AND y.branch = fx.branch
    WHERE fx.final_status >= 300 AND fx.kind = 'INVITE' AND fx.rfc2543 = 0
      AND y.kind IN ('ACK2XX', 'INVITE')
    UNION
    SELECT msg_id FROM lm WHERE txn_id IS NULL AND is_request = 1 AND method = 'ACK'
), ack AS (
    SELECT a.msg_id, a.ts_us, a.dialog_id, a.side, a.src, a.dst, a.cseq_num, a.cseq_method,
           a.top_branch, a.call_id,
           (SELECT txn_id FROM (   -- the latest (max() picks its row, without a sort)
                SELECT x.txn_id, max(x.req_first_us) FROM txn x
                WHERE x.call_id = a.call_id AND x.kind = 'INVITE' AND x.rfc2543 = 0
                  AND x.branch = a.top_branch
                  AND x.uac_ip = a.src_ip AND x.uac_port = a.src_port
                  AND x.uas_ip = a.dst_ip AND x.uas_port = a.dst_port AND x.final_status >= 300
                  AND x.req_first_us <= a.ts_us)) AS nx_txn
    FROM cand c JOIN lm a ON a.msg_id = c.msg_id
    WHERE a.is_request = 1 AND a.method = 'ACK'
), non2xx AS (
    SELECT a.msg_id, x.req_msg_id || ' ' || x.final_msg_id || ' ' || a.msg_id AS evidence,
           a.dialog_id, a.src, a.dst, a.cseq_num, a.cseq_method,
           x.cseq_num AS inv_cseq, x.final_msg_id AS resp_msg, x.req_msg_id AS inv_msg
    FROM ack a JOIN t x ON x.txn_id = a.nx_txn
    WHERE a.cseq_num IS NOT x.cseq_num OR a.cseq_method IS NOT 'ACK'
), ok2xx AS (
    -- per ACK of a 2xx: the 2xx to INVITEs of the same side seen in its dialog before it
    SELECT a.msg_id, r.msg_id AS resp_msg, r.cseq_num AS inv_cseq, r.ts_us,
           max(CASE WHEN r.cseq_num = a.cseq_num THEN 1 ELSE 0 END) OVER (PARTITION BY a.msg_id) AS matched,
           row_number() OVER (PARTITION BY a.msg_id ORDER BY r.ts_us DESC, r.msg_id DESC) AS nth
    FROM ack a
    JOIN keyed r ON r.dialog_id = a.dialog_id AND r.ts_us <= a.ts_us   -- 2xx, INVITE, with a txn
    WHERE a.nx_txn IS NULL AND a.dialog_id IS NOT NULL
      AND r.is_request = 0 AND r.inv_side = a.side
), bad2xx AS (
    SELECT a.msg_id, o.resp_msg, o.inv_cseq, rt.req_msg_id AS inv_msg, a.dialog_id, a.src, a.dst,
           a.cseq_num, a.cseq_method
    FROM ack a
    JOIN ok2xx o ON o.msg_id = a.msg_id AND o.nth = 1
    JOIN m rm ON rm.msg_id = o.resp_msg
    JOIN txn rt ON rt.txn_id = rm.txn_id
    WHERE o.matched = 0 OR a.cseq_method IS NOT 'ACK'
), hit AS (
    SELECT msg_id, dialog_id, src, dst, cseq_num, cseq_method, inv_cseq, resp_msg, inv_msg FROM non2xx
    UNION ALL
    SELECT msg_id, dialog_id, src, dst, cseq_num, cseq_method, inv_cseq, resp_msg, inv_msg FROM bad2xx
)
SELECT h.msg_id,
       h.inv_msg || ' ' || h.resp_msg || ' ' || h.msg_id AS evidence,
       h.dialog_id,
       h.src || ' (' || coalesce(a.side, '?') || ')' AS sender,
       h.dst AS receiver,
       'the ' || r.status || ' ' || coalesce(r.reason, '') || ' to its '
           || CASE WHEN i.to_tag <> '' THEN 're-INVITE' ELSE 'INVITE' END
           || ' (CSeq ' || h.inv_cseq || ')' AS acked,
       coalesce(h.cseq_num, '?') || ' ' || coalesce(h.cseq_method, '?') AS ack_cseq,
       h.inv_cseq
FROM hit h
JOIN m a ON a.msg_id = h.msg_id
JOIN m r ON r.msg_id = h.resp_msg
JOIN m i ON i.msg_id = h.inv_msg
ORDER BY h.msg_id;
