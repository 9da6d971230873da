/* partial_json.c - closes a truncated JSON text into the best valid document, so a
 * client can show tool-call arguments while they stream.
 *
 * One pass validates the grammar and remembers the last "safe point": the longest prefix
 * that becomes a valid document when the open string (if any) and the open containers
 * are closed. Safe points are right after an opening bracket, after a complete value,
 * and inside a value string after each complete character or escape. Keys, colons,
 * commas and scalars still being read (numbers, literals) never are, which is what drops
 * a dangling key, a trailing comma and a cut number or literal together with its key.
 * The semantics follow the npm `partial-json` parser with partial strings, arrays and
 * objects allowed and partial numbers and literals not. */
#include "internal.h"

enum state {
    ST_VALUE,   /* a value is expected (top level, after ':' or after ',' in an array) */
    ST_KEY,     /* an object key is expected */
    ST_COLON,   /* after a key */
    ST_AFTER,   /* after a value: ',' or a closer (top level: only whitespace) */
    ST_STRING,  /* inside a string (value or key) */
    ST_NUMBER,  /* inside a number */
    ST_LITERAL  /* inside true, false or null */
};

/* Number sub-states; the ones marked complete may end the number. */
enum num { N_MINUS, N_ZERO /* complete */, N_INT /* complete */, N_DOT, N_FRAC /* complete */,
           N_E, N_ESIGN, N_EXP /* complete */ };

static int num_complete(int s) { return s == N_ZERO || s == N_INT || s == N_FRAC || s == N_EXP; }

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Advances the number state machine by c; -1 when c cannot continue the number. */
static int num_step(int s, unsigned char c) {
    int digit = c >= '0' && c <= '9';
    switch (s) {
    case N_MINUS: return c == '0' ? N_ZERO : digit ? N_INT : -1;
    case N_ZERO: return c == '.' ? N_DOT : (c == 'e' || c == 'E') ? N_E : -1;
    case N_INT: return digit ? N_INT : c == '.' ? N_DOT : (c == 'e' || c == 'E') ? N_E : -1;
    case N_DOT: return digit ? N_FRAC : -1;
    case N_FRAC: return digit ? N_FRAC : (c == 'e' || c == 'E') ? N_E : -1;
    case N_E: return digit ? N_EXP : (c == '+' || c == '-') ? N_ESIGN : -1;
    case N_ESIGN: return digit ? N_EXP : -1;
    case N_EXP: return digit ? N_EXP : -1;
    default: return -1;
    }
}

int tks_partial_json(const char *in, size_t n, char *out, size_t cap, size_t *out_len) {
    unsigned char objbits[TKS_PARTIAL_JSON_MAX_DEPTH / 8]; /* 1 = object, 0 = array */
    const unsigned char *p = (const unsigned char *)in;
    size_t depth = 0, i = 0;
    int st = ST_VALUE, empty_ok = 0, is_key = 0, num = 0;
    const char *lit = NULL;
    size_t litpos = 0;
    /* the safe point */
    int have_safe = 0, safe_in_string = 0;
    size_t safe = 0, safe_depth = 0;

    if (out_len) *out_len = 0;
    if (!out_len || (n && !in)) return TKS_EINVAL;

#define TOP_IS_OBJ() (depth && (objbits[(depth - 1) >> 3] >> ((depth - 1) & 7) & 1))
#define MARK(pos, instr)                                                                  \
    do {                                                                                  \
        have_safe = 1;                                                                    \
        safe = (pos);                                                                     \
        safe_in_string = (instr);                                                         \
        safe_depth = depth;                                                               \
    } while (0)

    while (i < n) {
        unsigned char c = p[i];
        switch (st) {
        case ST_STRING:
            if (c == '"') {
                i++;
                if (is_key) {
                    st = ST_COLON;
                } else {
                    st = ST_AFTER;
                    MARK(i, 0);
                }
            } else if (c == '\\') {
                if (i + 1 >= n) goto eof; /* cut inside an escape: dropped */
                unsigned char e = p[i + 1];
                if (e == 'u') {
                    size_t k;
                    for (k = 0; k < 4 && i + 2 + k < n; k++)
                        if (!is_hex(p[i + 2 + k])) return TKS_EJSON;
                    if (k < 4) goto eof; /* cut \u sequence: dropped */
                    i += 6;
                    /* A high surrogate is half a character: the safe point waits for
                     * what follows, so a pair cut in the middle is dropped whole. */
                    unsigned h1 = p[i - 4] | 0x20u, h2 = p[i - 3] | 0x20u;
                    if (h1 == 'd' && (h2 == '8' || h2 == '9' || h2 == 'a' || h2 == 'b'))
                        continue;
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' ||
                           e == 'n' || e == 'r' || e == 't') {
                    i += 2;
                } else {
                    return TKS_EJSON;
                }
                if (!is_key) MARK(i, 1);
            } else if (c < 0x20) {
                return TKS_EJSON;
            } else if (c < 0x80) {
                /* a run of plain ASCII */
                i++;
                while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\') i++;
                if (!is_key) MARK(i, 1);
            } else {
                int k = tks__utf8_char(p + i, n - i);
                if (k < 0) return TKS_EJSON;
                if (k == 0) goto eof; /* a character cut at the end: dropped */
                i += (size_t)k;
                if (!is_key) MARK(i, 1);
            }
            continue;
        case ST_NUMBER: {
            int ns = num_step(num, c);
            if (ns >= 0) {
                num = ns;
                i++;
                continue;
            }
            if (!num_complete(num)) return TKS_EJSON;
            st = ST_AFTER;
            MARK(i, 0); /* the number ended before this byte */
            continue;   /* the byte is read again in ST_AFTER */
        }
        case ST_LITERAL:
            if (c != (unsigned char)lit[litpos]) return TKS_EJSON;
            i++;
            if (lit[++litpos] == 0) {
                st = ST_AFTER;
                MARK(i, 0);
            }
            continue;
        default:
            break;
        }

        if (is_ws(c)) {
            i++;
            continue;
        }
        switch (st) {
        case ST_VALUE:
            if (c == ']' && empty_ok && depth && !TOP_IS_OBJ()) goto close;
            empty_ok = 0;
            if (c == '{' || c == '[') {
                if (depth >= TKS_PARTIAL_JSON_MAX_DEPTH) return TKS_ELIMIT;
                unsigned bit = 1u << (depth & 7);
                if (c == '{') objbits[depth >> 3] |= (unsigned char)bit;
                else objbits[depth >> 3] &= (unsigned char)~bit;
                depth++;
                i++;
                st = c == '{' ? ST_KEY : ST_VALUE;
                empty_ok = 1;
                MARK(i, 0);
            } else if (c == '"') {
                i++;
                st = ST_STRING;
                is_key = 0;
                MARK(i, 1);
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                num = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
                st = ST_NUMBER;
                i++;
            } else if (c == 't' || c == 'f' || c == 'n') {
                lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
                litpos = 1;
                st = ST_LITERAL;
                i++;
            } else {
                return TKS_EJSON;
            }
            break;
        case ST_KEY:
            if (c == '}' && empty_ok) goto close;
            empty_ok = 0;
            if (c != '"') return TKS_EJSON;
            i++;
            st = ST_STRING;
            is_key = 1;
            break;
        case ST_COLON:
            if (c != ':') return TKS_EJSON;
            i++;
            st = ST_VALUE;
            break;
        case ST_AFTER:
            if (!depth) return TKS_EJSON; /* something after the top-level value */
            if (c == ',') {
                i++;
                st = TOP_IS_OBJ() ? ST_KEY : ST_VALUE;
                empty_ok = 0;
                break;
            }
            if (c == (TOP_IS_OBJ() ? '}' : ']')) goto close;
            return TKS_EJSON;
        default:
            return TKS_EJSON;
        }
        continue;
    close:
        depth--;
        i++;
        st = ST_AFTER;
        empty_ok = 0;
        MARK(i, 0);
    }
eof:
    /* A complete number at the very end is kept only at the top level, where nothing can
     * follow it; nested, it might still be growing ("12" of "123"). */
    if (st == ST_NUMBER && depth == 0 && num_complete(num)) MARK(n, 0);
    if (!have_safe) return TKS_EEMPTY;

    size_t len = safe + (size_t)safe_in_string + safe_depth;
    *out_len = len;
    if (!out) return TKS_OK;
    if (cap < len + 1) return TKS_ELIMIT;
    memcpy(out, in, safe);
    size_t o = safe;
    if (safe_in_string) out[o++] = '"';
    for (size_t d = safe_depth; d > 0; d--)
        out[o++] = (objbits[(d - 1) >> 3] >> ((d - 1) & 7) & 1) ? '}' : ']';
    out[o] = 0;
    return TKS_OK;
#undef TOP_IS_OBJ
#undef MARK
}
