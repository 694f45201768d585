/*
 * q850.c: ITU-T Q.850 cause values as carried in the SIP Reason header
 * (RFC 3326: Reason: Q.850;cause=16;text="...").
 */
#include "txn/txn.h"

#include <stdbool.h>
#include <stddef.h>

struct cause_text {
    int cause;
    const char *text;
};

/* ITU-T Q.850 (05/1998) Table 1: the standard cause values. */
static const struct cause_text causes[] = {
    { 1, "Unallocated (unassigned) number" },
    { 2, "No route to specified transit network" },
    { 3, "No route to destination" },
    { 4, "Send special information tone" },
    { 5, "Misdialled trunk prefix" },
    { 6, "Channel unacceptable" },
    { 7, "Call awarded and being delivered in an established channel" },
    { 8, "Preemption" },
    { 9, "Preemption - circuit reserved for reuse" },
    { 16, "Normal call clearing" },
    { 17, "User busy" },
    { 18, "No user responding" },
    { 19, "No answer from user (user alerted)" },
    { 20, "Subscriber absent" },
    { 21, "Call rejected" },
    { 22, "Number changed" },
    { 26, "Non-selected user clearing" },
    { 27, "Destination out of order" },
    { 28, "Invalid number format (address incomplete)" },
    { 29, "Facility rejected" },
    { 30, "Response to STATUS ENQUIRY" },
    { 31, "Normal, unspecified" },
    { 34, "No circuit/channel available" },
    { 38, "Network out of order" },
    { 39, "Permanent frame mode connection out of service" },
    { 40, "Permanent frame mode connection operational" },
    { 41, "Temporary failure" },
    { 42, "Switching equipment congestion" },
    { 43, "Access information discarded" },
    { 44, "Requested circuit/channel not available" },
    { 46, "Precedence call blocked" },
    { 47, "Resource unavailable, unspecified" },
    { 49, "Quality of service not available" },
    { 50, "Requested facility not subscribed" },
    { 53, "Outgoing calls barred within CUG" },
    { 55, "Incoming calls barred within CUG" },
    { 57, "Bearer capability not authorized" },
    { 58, "Bearer capability not presently available" },
    { 62, "Inconsistency in designated outgoing access information and subscriber class" },
    { 63, "Service or option not available, unspecified" },
    { 65, "Bearer capability not implemented" },
    { 66, "Channel type not implemented" },
    { 69, "Requested facility not implemented" },
    { 70, "Only restricted digital information bearer capability is available" },
    { 79, "Service or option not implemented, unspecified" },
    { 81, "Invalid call reference value" },
    { 82, "Identified channel does not exist" },
    { 83, "A suspended call exists, but this call identity does not" },
    { 84, "Call identity in use" },
    { 85, "No call suspended" },
    { 86, "Call having the requested call identity has been cleared" },
    { 87, "User not member of CUG" },
    { 88, "Incompatible destination" },
    { 90, "Non-existent CUG" },
    { 91, "Invalid transit network selection" },
    { 95, "Invalid message, unspecified" },
    { 96, "Mandatory information element is missing" },
    { 97, "Message type non-existent or not implemented" },
    { 98, "Message not compatible with call state or message type non-existent or not "
          "implemented" },
    { 99, "Information element/parameter non-existent or not implemented" },
    { 100, "Invalid information element contents" },
    { 101, "Message not compatible with call state" },
    { 102, "Recovery on timer expiry" },
    { 103, "Parameter non-existent or not implemented, passed on" },
    { 110, "Message with unrecognized parameter, discarded" },
    { 111, "Protocol error, unspecified" },
    { 127, "Interworking, unspecified" },
};

const char *sl_q850_text(int cause)
{
    size_t i;

    for (i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
        if (causes[i].cause == cause)
            return causes[i].text;
    return NULL;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive: does s start with the lower-case word w? */
static bool starts_with_ci(const char *s, const char *w)
{
    for (; *w != '\0'; s++, w++)
        if (lower(*s) != *w)
            return false;
    return true;
}

/* Skips a quoted string starting at s (on the opening quote). */
static const char *skip_quoted(const char *s)
{
    for (s++; *s != '\0' && *s != '"'; s++)
        if (*s == '\\' && s[1] != '\0')
            s++;
    return *s == '"' ? s + 1 : s;
}

/* RFC 3326 2: Reason = "Reason" HCOLON reason-value *(COMMA reason-value);
 * reason-value = protocol *(SEMI reason-params); protocol "Q.850";
 * reason-params include "cause" EQUAL 1*DIGIT.  Protocol and parameter names
 * are tokens, compared case-insensitively (RFC 3261 7.3.1). */
int sl_q850_cause(const char *reason_hdr)
{
    const char *s = reason_hdr;

    if (s == NULL)
        return -1;
    while (*s != '\0') {
        bool q850;

        while (is_ws(*s) || *s == ',')
            s++;
        q850 = starts_with_ci(s, "q.850") &&
               (s[5] == '\0' || s[5] == ';' || s[5] == ',' || is_ws(s[5]));
        if (q850)
            s += 5;
        /* walk the parameters of this value up to the next comma */
        while (*s != '\0' && *s != ',') {
            if (*s == '"') {
                s = skip_quoted(s);
                continue;
            }
            if (*s != ';') {
                s++;
                continue;
            }
            for (s++; is_ws(*s); s++)
                ;
            if (q850 && starts_with_ci(s, "cause")) {
                const char *p = s + 5;
                int v = 0, digits = 0;

                while (is_ws(*p))
                    p++;
                if (*p != '=')
                    continue;
                for (p++; is_ws(*p); p++)
                    ;
                while (*p >= '0' && *p <= '9' && digits < 4) {
                    v = v * 10 + (*p - '0');
                    p++;
                    digits++;
                }
                /* Q.850 2.2.5: the cause value is 7 bits */
                if (digits > 0 && v <= 127 && (*p < '0' || *p > '9'))
                    return v;
            }
        }
    }
    return -1;
}
