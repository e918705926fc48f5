/*
 * Copyright (C) Parley
 *
 * The widget token (SPEC 3.1), shared by the nginx module (C), which
 * verifies it, and the engine (C++), which mints it.  Both sides check
 * shared/test-vectors/widget_token.json.
 *
 *   <base64url header>.<base64url claims>.<base64url HMAC-SHA256>
 *
 *   header   {"alg":"HS256","kid":<kid>,"typ":"JWT"}: alg is pinned (none,
 *            HS512, RS256 and the rest are refused), kid names a key of
 *            the ring, typ may be left out, nothing else is allowed
 *   claims   iss (non-empty), aud = PARLEY_WIDGET_TOKEN_AUDIENCE,
 *            tid (lowercase tenant UUID), sid and agt ([A-Za-z0-9_-]{1,64}),
 *            org (the browser origin it was issued to, 1 to
 *            PARLEY_ORIGIN_MAX bytes), iat, nbf, exp (whole unix seconds,
 *            iat < exp <= iat + PARLEY_WIDGET_TOKEN_LIFETIME_MAX),
 *            and pln, the tenant's plan, when it has one (below)
 *   sig      HMAC-SHA256 over "<header>.<claims>" with the kid's secret
 *
 * base64url is unpadded and canonical.  A token is valid at "now" when
 * now < exp + skew, nbf <= now + skew and iat <= now + skew, where skew is
 * the verifier's allowance for clocks that differ (the edge's
 * parley_widget_clock_skew, 30 s by default).
 *
 * pln, in a token and in a stream id alike, is the tenant's plan, for the
 * edge's limits of the widget's requests (a secret key's plan comes from
 * introspection instead):
 *
 *   pln      {"rpm":N,"burst":N,"streams":N}: requests per minute and burst
 *            of the "parley_limit tenant", and the maximum of the tenant's
 *            concurrent streams ("parley_streams"); each member there only
 *            when the plan sets it (the edge's directive default applies to
 *            the others), nothing else in it, the claim left out when the
 *            plan sets none.  Integers: rpm 1 to PARLEY_WIDGET_PLAN_MAX,
 *            burst and streams 0 to PARLEY_WIDGET_PLAN_MAX, the bounds of
 *            introspection's answers; the engine mints a larger plan value
 *            as PARLEY_WIDGET_PLAN_MAX (a limit far above any real plan).
 *            A pln of any other form refuses the credential (its claims).
 *
 * The engine reads the plan when it mints the credential, and the edge
 * asks nothing: a change of a tenant's plan reaches its widget traffic
 * only with the credentials minted after it, at most
 * PARLEY_WIDGET_TOKEN_LIFETIME_MAX (15 minutes) later.
 *
 * The widget stream id, the last segment of
 * "GET /widget/v1/streams/<stream id>", is the URL a browser's
 * EventSource opens: it cannot send an Authorization header, so the path
 * segment is the credential, verified by the edge with no engine call,
 * like a token.  It is a token in every
 * respect (same header, key ring, signature, base64url, lifetime and time
 * rules) but its claims:
 *
 *   claims   iss, aud = PARLEY_WIDGET_STREAM_AUDIENCE, tid, sid, agt, org,
 *            iat, nbf, exp and pln as in a token, and sti, the stream's own
 *            random id ([A-Za-z0-9_-]{1,64}), which must be there
 *
 * The audiences never cross: a token is no stream id (its aud is
 * PARLEY_WIDGET_TOKEN_AUDIENCE), and a stream id is no token.  A stream id
 * is a credential in a URL: it must not be logged (nginx's $request_uri
 * and $uri hold it).  Both sides check
 * shared/test-vectors/widget_stream.json.
 *
 * Minted, a token or a stream id is exactly base64url(header) "."
 * base64url(claims) "." base64url(sig), each JSON with its keys sorted and
 * no whitespace (pln's members sorted too), as the test vectors' valid
 * ones are; a verifier accepts any JSON of the right members.
 *
 * Two more credentials of the same form come back to the engine only
 * (in the body of POST /widget/v1/session), never to the edge; they are
 * defined here so that every audience of the ring is in one place:
 *
 *   ticket   aud = PARLEY_WIDGET_TICKET_AUDIENCE: carried by the frame
 *            page asked for from one of the tenant's origins (the page's
 *            only frame-ancestors); iss, tid, org, key (the publishable
 *            key's lowercase UUID), agt when the page names an agent, iat,
 *            nbf, exp <= iat + PARLEY_WIDGET_TICKET_LIFETIME_MAX
 *   resume   aud = PARLEY_WIDGET_RESUME_AUDIENCE: kept in the frame's
 *            storage; iss, tid, org, sid, agt, iat, nbf,
 *            exp <= iat + PARLEY_WIDGET_RESUME_LIFETIME_MAX
 *
 * The engine checks shared/test-vectors/widget_ticket.json.
 *
 * The key ring, the file both sides read (parley_widget_keys and
 * widget.keys_file): one "<kid> <secret>" a line, "#" comments and blank
 * lines ignored; kid [A-Za-z0-9_-]{1,64}, the secret one field of at
 * least PARLEY_WIDGET_SECRET_MIN bytes, used as raw bytes.  The engine
 * signs with the last key; the edge accepts every key of the ring.
 */

#ifndef PARLEY_WIDGET_TOKEN_H
#define PARLEY_WIDGET_TOKEN_H

#define PARLEY_WIDGET_TOKEN_ALG           "HS256"
#define PARLEY_WIDGET_TOKEN_TYP           "JWT"
#define PARLEY_WIDGET_TOKEN_AUDIENCE      "parley-widget"
#define PARLEY_WIDGET_STREAM_AUDIENCE     "parley-widget-stream"
#define PARLEY_WIDGET_TICKET_AUDIENCE     "parley-widget-ticket"
#define PARLEY_WIDGET_RESUME_AUDIENCE     "parley-widget-resume"
#define PARLEY_WIDGET_TICKET_LIFETIME_MAX 120     /* the frame trades it at once */
#define PARLEY_WIDGET_RESUME_LIFETIME_MAX 2592000 /* 30 days */
#define PARLEY_WIDGET_TOKEN_LIFETIME_MAX  900     /* exp - iat: 15 minutes */
#define PARLEY_WIDGET_TOKEN_MAX_LEN       4096    /* longer is not minted */

#define PARLEY_WIDGET_SECRET_MIN          32      /* bytes of a ring secret */

/* the largest value of a pln member: the edge's bound of any rate */
#define PARLEY_WIDGET_PLAN_MAX            10000000

/*
 * "scheme://host[:port]" of a browser, as tenants' allowed origins are
 * stored: longer is no tenant's, and no token's
 */
#define PARLEY_ORIGIN_MAX                 255

#endif /* PARLEY_WIDGET_TOKEN_H */
