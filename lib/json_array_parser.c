/* json_array_parser.c - the elements of one top-level JSON array (Gemini
 * streamGenerateContent without alt=sse), each handed over as soon as it is complete.
 *
 * A byte-at-a-time JSON scanner: it checks the whole grammar of RFC 8259 (structure,
 * commas and colons, string escapes, literals, number syntax) but keeps no values, only
 * a stack of open brackets. Bytes of 0x80 and above inside strings are not checked as
 * UTF-8 (the decoder's JSON parser does that). An element that lies inside one push is
 * handed over in place; one cut by a push boundary is gathered in the element buffer. */
#include "internal.h"

#include <stdio.h>

enum {
    A_BOM,       /* at the very start: an optional UTF-8 BOM */
    A_START,     /* before '[' */
    A_FIRST,     /* after '[': an element or ']' */
    A_NEXT,      /* after an element: ',' or ']' */
    A_ELEM,      /* after ',': an element */
    A_DONE,      /* after the closing ']': whitespace only */
    A_VALUE,     /* inside an element: a value */
    A_ARR_FIRST, /* after a nested '[': a value or ']' */
    A_OBJ_FIRST, /* after '{': a key or '}' */
    A_OBJ_KEY,   /* after ',' in an object: a key */
    A_COLON,     /* after a key: ':' */
    A_AFTER,     /* after a value inside a container: ',' or the closer */
    A_STRING,
    A_STR_ESC,   /* after a backslash */
    A_STR_U,     /* inside \uXXXX */
    A_LIT,       /* true, false, null */
    A_NUM
};

/* Number sub-states (RFC 8259 grammar). */
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

struct tks_json_array_parser {
    tks_alloc alloc;
    tks_event_cb on_event;
    void *user;
    size_t max_element;
    tks__buf elem;   /* the start of an element cut by a push boundary */
    tks__buf stack;  /* open brackets inside the current element, '{' or '[' */
    int state;
    int bom;         /* BOM bytes matched so far */
    int key;         /* the string being scanned is an object key */
    int hex;         /* \u digits seen */
    int num;         /* number sub-state */
    const char *lit; /* the literal being matched, and how much of it */
    int lit_pos;
    int elem_active; /* an element has begun and is not complete */
    int finished;
    int stopped;
    uint64_t pos;    /* input bytes consumed before the current push */
    uint64_t elem_at;
    tks__err err;
};

static int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static int is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The number sub-state after c, or -1 when c does not continue the number. */
static int num_next(int st, unsigned char c) {
    int digit = c >= '0' && c <= '9';
    switch (st) {
    case N_MINUS: return c == '0' ? N_ZERO : digit ? N_INT : -1;
    case N_ZERO:
    case N_INT:
        if (digit && st == N_INT) return N_INT;
        if (c == '.') return N_DOT;
        if (c == 'e' || c == 'E') return N_E;
        return -1;
    case N_DOT:
    case N_FRAC:
        if (digit) return N_FRAC;
        if (st == N_FRAC && (c == 'e' || c == 'E')) return N_E;
        return -1;
    case N_E: return digit ? N_EXP : (c == '+' || c == '-') ? N_ESIGN : -1;
    case N_ESIGN:
    case N_EXP: return digit ? N_EXP : -1;
    default: return -1;
    }
}

static int num_complete(int st) { return st == N_ZERO || st == N_INT || st == N_FRAC || st == N_EXP; }

static int syntax(tks_json_array_parser *p, uint64_t at, const char *msg) {
    return tks__err_at(&p->err, TKS_EJSON, at, msg);
}

static int too_long(tks_json_array_parser *p, uint64_t at) {
    char msg[128];
    snprintf(msg, sizeof msg, "element beginning at byte %llu is longer than %zu bytes "
             "(max_element): limit reached", (unsigned long long)p->elem_at, p->max_element);
    return tks__err_at(&p->err, TKS_ELIMIT, at, msg);
}

int tks_json_array_parser_new(tks_json_array_parser **out, const tks_json_array_config *cfg,
                              tks_event_cb on_event, void *user) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (!on_event) return TKS_EINVAL;
    tks_json_array_parser *p;
    int rc = tks__object_new((void **)&p, sizeof *p, cfg ? cfg->alloc : NULL,
                             offsetof(tks_json_array_parser, alloc));
    if (rc) return rc;
    p->on_event = on_event;
    p->user = user;
    p->max_element = TKS_OR(cfg ? cfg->max_element : 0, TKS_MIB);
    p->elem.limit = p->max_element;
    p->stack.limit = TKS_OR(cfg ? cfg->max_depth : 0, 256);
    p->state = A_BOM;
    *out = p;
    return TKS_OK;
}

/* First index of this push that would make the element longer than max_element
 * (SIZE_MAX when the rest of the push fits). */
static size_t elem_limit(const tks_json_array_parser *p, size_t seg, size_t len) {
    size_t room = p->max_element - p->elem.len;
    return room > len - seg ? SIZE_MAX : seg + room;
}

/* The element [seg, end) of this push (after what the buffer holds) is complete. */
static int emit(tks_json_array_parser *p, const char *s, size_t seg, size_t end) {
    const char *d = s + seg;
    size_t n = end - seg;
    if (p->elem.len) {
        int rc = tks__buf_append(&p->elem, &p->alloc, d, n);
        if (rc) return tks__err_at(&p->err, rc, p->pos + end, "cannot grow the element buffer");
        d = p->elem.p;
        n = p->elem.len;
    }
    p->elem_active = 0;
    p->elem.len = 0; /* the bytes stay readable until the next append */
    tks_event ev = {0};
    ev.type = ev.id = ev.message_type = "";
    ev.data = d;
    ev.data_len = n;
    ev.offset = p->elem_at;
    if (p->on_event(p->user, &ev)) {
        p->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

int tks_json_array_parser_push(tks_json_array_parser *p, const void *data, size_t len) {
    if (!p || (!data && len)) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return tks__err_set(&p->err, TKS_ESTATE, p->pos, "push after finish");
    const unsigned char *s = data;
    size_t i = 0, seg = 0;
    size_t lim = p->elem_active ? elem_limit(p, 0, len) : SIZE_MAX;
    int rc;
    while (i < len) {
        unsigned char c = s[i];
        uint64_t at = p->pos + i;
        if (p->elem_active && i >= lim && p->state != A_NUM) return too_long(p, at);
        if (p->state >= A_START && p->state <= A_AFTER && is_ws(c)) {
            /* A run of whitespace (pretty-printed input is full of it), within the
             * element's size limit. */
            size_t stop = lim < len ? lim : len;
            do i++;
            while (i < stop && is_ws(s[i]));
            continue;
        }
        switch (p->state) {
        case A_BOM: {
            static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
            if (c == bom[p->bom]) {
                if (++p->bom == 3) p->state = A_START;
                i++;
            } else if (p->bom == 0) {
                p->state = A_START;
            } else {
                return syntax(p, at, "broken UTF-8 byte order mark");
            }
            break;
        }
        case A_START:
            if (is_ws(c)) i++;
            else if (c == '[') { p->state = A_FIRST; i++; }
            else return syntax(p, at, "expected '[': the input is not a JSON array");
            break;
        case A_FIRST:
        case A_ELEM:
            if (is_ws(c)) { i++; break; }
            if (c == ']' && p->state == A_FIRST) { p->state = A_DONE; i++; break; }
            if (c == ']') return syntax(p, at, "expected an element after ','");
            /* An element begins here; the byte is scanned as a value. */
            p->elem_active = 1;
            p->elem_at = at;
            seg = i;
            lim = elem_limit(p, seg, len);
            p->state = A_VALUE;
            break;
        case A_NEXT:
            if (is_ws(c)) i++;
            else if (c == ',') { p->state = A_ELEM; i++; }
            else if (c == ']') { p->state = A_DONE; i++; }
            else return syntax(p, at, "expected ',' or ']' after an array element");
            break;
        case A_DONE:
            if (!is_ws(c)) return syntax(p, at, "unexpected data after the array's closing ']'");
            i++;
            break;
        case A_ARR_FIRST:
            if (c == ']') goto close;
            /* fall through */
        case A_VALUE:
            if (is_ws(c)) { i++; break; }
            i++;
            switch (c) {
            case '{':
            case '[':
                rc = tks__buf_putc(&p->stack, &p->alloc, (char)c);
                if (rc == TKS_ELIMIT)
                    return tks__err_at(&p->err, rc, at, "nesting deeper than max_depth");
                if (rc) return tks__err_at(&p->err, rc, at, "cannot grow the nesting stack");
                p->state = c == '{' ? A_OBJ_FIRST : A_ARR_FIRST;
                break;
            case '"': p->key = 0; p->state = A_STRING; break;
            case 't': p->lit = "true"; p->lit_pos = 1; p->state = A_LIT; break;
            case 'f': p->lit = "false"; p->lit_pos = 1; p->state = A_LIT; break;
            case 'n': p->lit = "null"; p->lit_pos = 1; p->state = A_LIT; break;
            case '-': p->num = N_MINUS; p->state = A_NUM; break;
            default:
                if (c >= '0' && c <= '9') {
                    p->num = c == '0' ? N_ZERO : N_INT;
                    p->state = A_NUM;
                    break;
                }
                return syntax(p, at, "expected a JSON value");
            }
            break;
        case A_OBJ_FIRST:
        case A_OBJ_KEY:
            if (is_ws(c)) { i++; break; }
            if (c == '"') { p->key = 1; p->state = A_STRING; i++; break; }
            if (c == '}' && p->state == A_OBJ_FIRST) goto close;
            return syntax(p, at, "expected a string key in an object");
        case A_COLON:
            if (is_ws(c)) i++;
            else if (c == ':') { p->state = A_VALUE; i++; }
            else return syntax(p, at, "expected ':' after an object key");
            break;
        case A_AFTER: {
            if (is_ws(c)) { i++; break; }
            char top = p->stack.p[p->stack.len - 1];
            if (c == ',') {
                p->state = top == '{' ? A_OBJ_KEY : A_VALUE;
                i++;
                break;
            }
            if (c == '}' || c == ']') goto close;
            return syntax(p, at, top == '{' ? "expected ',' or '}' in an object"
                                            : "expected ',' or ']' in an array");
        }
        case A_STRING: {
            /* Fast path: plain string bytes, up to the element's size limit. */
            size_t stop = lim < len ? lim : len;
            while (i < stop && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20) i++;
            if (i == stop) break;
            c = s[i];
            at = p->pos + i;
            if (c < 0x20) return syntax(p, at, "unescaped control character in a string");
            i++;
            if (c == '\\') { p->state = A_STR_ESC; break; }
            if (p->key) { p->state = A_COLON; break; }
            goto value_done;
        }
        case A_STR_ESC:
            if (c == 'u') { p->hex = 0; p->state = A_STR_U; }
            else if (strchr("\"\\/bfnrt", c) && c) p->state = A_STRING;
            else return syntax(p, at, "invalid escape sequence in a string");
            i++;
            break;
        case A_STR_U:
            if (!is_hex(c)) return syntax(p, at, "invalid \\u escape in a string");
            if (++p->hex == 4) p->state = A_STRING;
            i++;
            break;
        case A_LIT:
            if (c != (unsigned char)p->lit[p->lit_pos])
                return syntax(p, at, "invalid literal (expected true, false or null)");
            i++;
            if (p->lit[++p->lit_pos] == '\0') goto value_done;
            break;
        case A_NUM: {
            int next = num_next(p->num, c);
            if (next >= 0) {
                if (i >= lim) return too_long(p, at);
                p->num = next;
                i++;
                break;
            }
            if (!num_complete(p->num)) return syntax(p, at, "invalid number");
            /* The number ended before c, which is scanned again after it. */
            goto value_done;
        }
        default:
            return syntax(p, at, "internal state error");
        }
        continue;

    close:
        /* c closes the innermost container (i still points at it). */
        if (p->stack.p[p->stack.len - 1] != (c == '}' ? '{' : '['))
            return syntax(p, at, "mismatched closing bracket");
        p->stack.len--;
        i++;
        /* fall through */
    value_done:
        if (p->stack.len) {
            p->state = A_AFTER;
            continue;
        }
        p->state = A_NEXT;
        rc = emit(p, (const char *)s, seg, i);
        if (rc) {
            p->pos += i;
            return rc;
        }
    }
    if (p->elem_active) {
        /* The element continues in the next push: keep its bytes so far. */
        rc = tks__buf_append(&p->elem, &p->alloc, s + seg, len - seg);
        if (rc) return tks__err_at(&p->err, rc, p->pos + len, "cannot grow the element buffer");
    }
    p->pos += len;
    return TKS_OK;
}

int tks_json_array_parser_finish(tks_json_array_parser *p) {
    if (!p) return TKS_EINVAL;
    if (p->err.code) return p->err.code;
    if (p->stopped) return TKS_STOPPED;
    if (p->finished) return TKS_OK;
    p->finished = 1;
    if (p->state == A_DONE) return TKS_OK;
    char msg[120];
    if (p->state == A_BOM || p->state == A_START)
        snprintf(msg, sizeof msg, "input ended before the array began");
    else if (p->elem_active)
        snprintf(msg, sizeof msg, "element beginning at byte %llu cut short: input ended",
                 (unsigned long long)p->elem_at);
    else
        snprintf(msg, sizeof msg, "input ended before the array's closing ']'");
    return tks__err_at(&p->err, TKS_ETRUNC, p->pos, msg);
}

void tks_json_array_parser_reset(tks_json_array_parser *p) {
    if (!p) return;
    p->elem.len = p->stack.len = 0; /* memory kept for the next stream */
    p->state = A_BOM;
    p->bom = p->key = p->hex = p->num = p->lit_pos = 0;
    p->lit = NULL;
    p->elem_active = p->finished = p->stopped = 0;
    p->pos = p->elem_at = 0;
    tks__err_clear(&p->err);
}

void tks_json_array_parser_free(tks_json_array_parser *p) {
    if (!p) return;
    tks_alloc a = p->alloc;
    tks__buf_free(&p->elem, &a);
    tks__buf_free(&p->stack, &a);
    tks__free(&a, p, sizeof *p);
}

const char *tks_json_array_parser_error(const tks_json_array_parser *p) {
    return p ? tks__err_text(&p->err) : "";
}

uint64_t tks_json_array_parser_offset(const tks_json_array_parser *p) {
    return p ? p->err.offset : 0;
}
