/* srtp_session.h - a peer's two SRTP contexts (what it sends us, what we
 * send it) from DTLS-exported keys, on libsrtp2. */
#ifndef SHOAL_SRTP_SESSION_H
#define SHOAL_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"

#define SRTP_TRAILER_MAX 32 /* room protect may add (tag, MKI none) */

typedef struct srtp_session srtp_session;

/* Once per process, before any session. */
bool srtp_session_library_init(void);
srtp_session *srtp_session_new(const dtls_srtp_keys *k);
void srtp_session_free(srtp_session *s);
/* In place; *len is updated. Return 0 on success, else libsrtp2's error. */
int srtp_session_unprotect(srtp_session *s, uint8_t *pkt, size_t *len);
int srtp_session_unprotect_rtcp(srtp_session *s, uint8_t *pkt, size_t *len);
/* pkt must have SRTP_TRAILER_MAX bytes free after *len. */
int srtp_session_protect(srtp_session *s, uint8_t *pkt, size_t *len);
int srtp_session_protect_rtcp(srtp_session *s, uint8_t *pkt, size_t *len);

#endif
