-- id: SIP-CSEQ-004
-- severity: error
-- title: CANCEL does not match the INVITE it cancels
-- rfc: RFC 3261 §9.1, RFC 3261 §9.2
-- impact: The UAS answers the CANCEL 481 and the phone keeps ringing; if it is answered later the
--   caller gets a call it abandoned (see SIP-CAN-001).
-- message: {sender} sent a CANCEL to {receiver} for its INVITE (CSeq {inv_cseq}) {mismatch};
--   {answer}
-- confidence: high
--
-- The INVITE a CANCEL targets is found on the same hop (RFC 3261 §9.1: same destination;
-- proxies CANCEL hop by hop with their own branches, so other hops are never compared):
-- * by branch: the INVITE transaction with the CANCEL's top-Via branch, same Call-ID, sent
--   from the same address to the same address, before the CANCEL.  This is
--   looked up by columns and not through txn.cancels_txn_id (the transaction engine links
--   it too, by branch and sent-by as RFC 3261 §9.2 says; the column lookup also covers a
--   CANCEL whose sent-by differs).  Then every §9.1 field the database holds is compared: CSeq number,
--   Request-URI, From (URI and tag), To (URI and tag), the top Via sent-by (a port 5060
--   written out in one and omitted in the other counts as equal), the number of Via values.
--   A CANCEL built by its sender has one Via value, the INVITE's top Via (§9.1), whatever the
--   INVITE carried below it: a stateful proxy CANCELs its own client transaction hop by hop
--   (§16.10) with a CANCEL of one Via although the INVITE it forwarded has two or more (its
--   own on top of the upstream ones).  Only a copy relayed by a stateless proxy (§16.11) has
--   more, and then the same Via stack as its INVITE.  So the count is a mismatch only when it
--   is neither 1 nor the INVITE's.  Route is not stored, and a CANCEL sent to another address
--   is a CANCEL with no INVITE on its hop.
-- * by dialog data: no INVITE with its branch on the hop, but one with the same Call-ID,
--   From tag and CSeq number: the branch differs (§9.1), which the receiver cannot match
--   (§9.2).
-- Branches without the RFC 3261 cookie are matched by other rules at the receiver (§17.2.3,
-- G14) and are skipped.  The CSeq method of a CANCEL is checked by SIP-CSEQ-008.
WITH cx AS (   -- the logical CANCELs (rules/prelude.sql)
    SELECT msg_id FROM msg_mark WHERE cancel
), c AS MATERIALIZED (
    SELECT cm.msg_id, cm.ts_us, cm.call_id, cm.src, cm.dst, cm.top_branch, cm.top_sent_by,
           cm.cseq_num, cm.ruri, cm.from_uri, cm.from_tag, cm.to_uri, cm.to_tag, cm.via_count,
           ct.final_status, ct.final_msg_id, ct.uac_side,
           (SELECT txn_id FROM (   -- the latest (max() picks its row, without a sort)
                SELECT x.txn_id, max(x.req_first_us) FROM txn x
                WHERE x.call_id = cm.call_id AND x.kind = 'INVITE' AND x.rfc2543 = 0
                  AND x.branch = cm.top_branch
                  AND x.uac_ip = cm.src_ip AND x.uac_port = cm.src_port
                  AND x.uas_ip = cm.dst_ip AND x.uas_port = cm.dst_port
                  AND x.req_first_us <= cm.ts_us)) AS by_branch,
           (SELECT txn_id FROM (
                SELECT x.txn_id, max(x.req_first_us) FROM txn x
                WHERE x.call_id = cm.call_id AND x.kind = 'INVITE' AND x.from_tag = cm.from_tag
                  AND x.cseq_num = cm.cseq_num
                  AND x.uac_ip = cm.src_ip AND x.uac_port = cm.src_port
                  AND x.uas_ip = cm.dst_ip AND x.uas_port = cm.dst_port
                  AND x.req_first_us <= cm.ts_us)) AS by_dialog
    FROM cx
    JOIN lm cm ON cm.msg_id = cx.msg_id
    LEFT JOIN txn ct ON ct.txn_id = cm.txn_id
    WHERE cm.is_request = 1 AND cm.method = 'CANCEL'
      AND cm.top_branch IS NOT NULL AND cm.top_branch LIKE 'z9hg4bk%'
), cmp AS (
    SELECT c.*, coalesce(c.by_branch, c.by_dialog) AS inv_txn,
           CASE WHEN c.by_branch IS NULL
                THEN 'with branch ' || c.top_branch || ' instead of the INVITE''s ' || i.top_branch
                ELSE substr(
                    CASE WHEN c.cseq_num IS NOT i.cseq_num
                         THEN ', CSeq number ' || coalesce(c.cseq_num, '?') || ' instead of ' || i.cseq_num ELSE '' END
                    || CASE WHEN c.ruri IS NOT i.ruri
                            THEN ', Request-URI ' || coalesce(c.ruri, '?') || ' instead of ' || coalesce(i.ruri, '?') ELSE '' END
                    || CASE WHEN c.from_uri IS NOT i.from_uri OR c.from_tag <> i.from_tag
                            THEN ', a From (' || coalesce(c.from_uri, '?') || ';tag=' || c.from_tag
                                 || ') other than the INVITE''s' ELSE '' END
                    || CASE WHEN c.to_uri IS NOT i.to_uri OR c.to_tag <> i.to_tag
                            THEN ', a To (' || coalesce(c.to_uri, '?')
                                 || CASE WHEN c.to_tag <> '' THEN ';tag=' || c.to_tag ELSE '' END
                                 || ') other than the INVITE''s' ELSE '' END
                    || CASE WHEN c.top_sent_by IS NOT i.top_sent_by
                                 AND NOT (c.top_sent_by || ':5060' = i.top_sent_by OR c.top_sent_by = i.top_sent_by || ':5060')
                            THEN ', top Via sent-by ' || coalesce(c.top_sent_by, '?') || ' instead of '
                                 || coalesce(i.top_sent_by, '?') ELSE '' END
                    || CASE WHEN c.via_count <> 1 AND c.via_count <> i.via_count
                            THEN ', ' || c.via_count || ' Via values where the INVITE had ' || i.via_count
                                 || ' (1 if built by its sender, ' || i.via_count || ' if relayed by a stateless proxy)'
                            ELSE '' END,
                    3)
           END AS diffs,
           i.msg_id AS inv_msg, i.cseq_num AS inv_cseq
    FROM c
    JOIN m i ON i.msg_id = (SELECT req_msg_id FROM txn WHERE txn_id = coalesce(c.by_branch, c.by_dialog))
    WHERE c.by_branch IS NOT NULL OR c.by_dialog IS NOT NULL
)
SELECT x.msg_id,
       x.inv_msg || ' ' || x.msg_id || coalesce(' ' || x.final_msg_id, '') AS evidence,
       (SELECT dialog_id FROM txn WHERE txn_id = x.inv_txn) AS dialog_id,
       x.src || coalesce(' (' || x.uac_side || ')', '') AS sender,
       x.dst AS receiver,
       x.inv_cseq,
       CASE WHEN x.by_branch IS NULL THEN x.diffs ELSE 'with ' || x.diffs END AS mismatch,
       CASE WHEN x.final_status IS NULL THEN x.dst || ' sent no final response to it in the capture'
            ELSE x.dst || ' answered it ' || x.final_status || ' ' || coalesce(f.reason, '') END AS answer
FROM cmp x
LEFT JOIN m f ON f.msg_id = x.final_msg_id
WHERE x.diffs <> ''
ORDER BY x.msg_id;
