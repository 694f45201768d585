-- id: SIP-DLG-006
-- severity: error
-- title: Retransmission of an in-dialog request answered inconsistently
-- rfc: RFC 3261 §17.2.1, RFC 3261 §17.2.2, RFC 6026 §7.1
-- impact: The UAC receives contradictory answers to one request; B2BUAs may create duplicate dialogs
--   or tear the call down.
-- message: {responder} answered a retransmission of the in-dialog {request} (CSeq {cseq}, same
--   branch, sent {delta_ms} ms after the first copy) from {requester} with {second} although it had
--   already answered that request {first}: the copy was processed as a new request
--
-- The server transaction absorbs retransmissions and re-sends its last response (RFC 3261
-- §17.2.1, §17.2.2); after a 2xx to INVITE the Accepted state (RFC 6026 §7.1) exists for exactly
-- this.  Detect: an in-dialog transaction X (same branch, sent-by and method, so the copy is a
-- retransmission: message.is_retrans = 1 on the request) whose request was seen again after X's
-- first final response, and a final response that follows that copy and differs from the first
-- final: another status or another To tag (txn_response holds one row per status + To tag, so
-- a second final row is exactly that), or the same status and tag with a different SDP o= line
-- (a 2xx "retransmission" whose session version or id changed: a new answer).  A copy answered
-- with the same final again (same status, tag and SDP) is the correct behaviour and is quiet.
-- A new request with a new branch and the same CSeq is not a retransmission (SIP-CSEQ-002 or a
-- RFC 3263 failover).  Per hop (transactions are per hop).  One finding per transaction, anchored
-- on the first differing final; evidence: the request, its first final, the retransmitted copy,
-- the differing final.  A foreign To tag in the second final is also SIP-DLG-001 (another facet).
WITH rc AS (   -- request copies after the first final (first one per transaction)
    SELECT x.txn_id, min(q.ts_us) AS copy_us
    FROM txn x
    JOIN message q ON q.txn_id = x.txn_id
    WHERE x.in_dialog = 1 AND x.kind IN ('INVITE', 'NONINVITE')
      AND x.first_final_us IS NOT NULL
      AND x.req_copies > 1 AND x.req_last_us > x.first_final_us   -- such a copy exists: read only those
      AND q.is_request = 1 AND q.is_retrans = 1 AND q.dup_of IS NULL AND q.method = x.method
      AND q.ts_us > x.first_final_us
    GROUP BY x.txn_id
),
diff AS (      -- finals after that copy that differ from the first final
    SELECT rc.txn_id, rc.copy_us, r.first_msg_id AS msg2, r.first_us AS us2
    FROM rc
    JOIN txn x ON x.txn_id = rc.txn_id
    JOIN txn_response r ON r.txn_id = rc.txn_id
    WHERE r.status >= 200 AND r.first_us > rc.copy_us
      AND (r.status <> x.final_status OR r.to_tag <> x.final_to_tag)
    UNION ALL
    SELECT rc.txn_id, rc.copy_us, p.msg_id, p.ts_us
    FROM rc
    JOIN txn x ON x.txn_id = rc.txn_id
    JOIN message f ON f.msg_id = x.final_msg_id
    JOIN message p ON p.txn_id = rc.txn_id AND p.is_request = 0 AND p.is_retrans = 1
                  AND p.retrans_of = x.final_msg_id AND p.dup_of IS NULL AND p.ts_us > rc.copy_us
    WHERE (p.sdp_o_version IS NOT f.sdp_o_version OR p.sdp_o_sess_id IS NOT f.sdp_o_sess_id)
),
pick AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.txn_id ORDER BY d.us2, d.msg2) AS k
    FROM diff d
)
SELECT p.msg2 AS msg_id,
       x.dialog_id,
       x.req_msg_id || ' ' || x.final_msg_id || ' '
           || (SELECT min(q.msg_id) FROM message q
               WHERE q.txn_id = x.txn_id AND q.is_request = 1 AND q.is_retrans = 1
                 AND q.method = x.method AND q.ts_us = p.copy_us) AS evidence,
       coalesce(rq.to_user || ' (' || x.uas || ')', x.uas) AS responder,
       coalesce(rq.from_user || CASE WHEN rq.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')',
                x.uac) AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       (p.copy_us - x.req_first_us) / 1000 AS delta_ms,
       f1.status || ' ' || f1.reason AS first,
       f2.status || ' ' || f2.reason
           || CASE WHEN f2.to_tag <> f1.to_tag THEN ' with another To tag (' || f2.to_tag || ')'
                   WHEN f2.status = f1.status THEN ' with a different SDP (o= ' || coalesce(f2.sdp_o_sess_id, '-')
                        || ' ' || coalesce(f2.sdp_o_version, '-') || ' instead of '
                        || coalesce(f1.sdp_o_sess_id, '-') || ' ' || coalesce(f1.sdp_o_version, '-') || ')'
                   ELSE '' END AS second
FROM pick p
JOIN t x ON x.txn_id = p.txn_id
JOIN m rq ON rq.msg_id = x.req_msg_id
JOIN message f1 ON f1.msg_id = x.final_msg_id
JOIN message f2 ON f2.msg_id = p.msg2
WHERE p.k = 1;
