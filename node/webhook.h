/* webhook.h - an HTTP(S) POST of a JSON body on the node's libev loop
 * (libwebsockets' client), with a deadline: the auth webhook. Never blocks
 * the loop; exactly one answer per request, unless cancelled first:
 *   done(ctx, WEBHOOK_OK, status, body, len)  a response (any status);
 *   done(ctx, WEBHOOK_TIMEOUT, ...)           no complete response in time;
 *   done(ctx, WEBHOOK_UNREACHABLE, ...)       no connection, or it broke.
 * Bodies of responses are kept up to WEBHOOK_MAX_BODY bytes. */
#ifndef SHOAL_WEBHOOK_H
#define SHOAL_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_MAX_BODY (64 * 1024)

struct node_ctx;
struct lws_vhost;

typedef enum { WEBHOOK_OK, WEBHOOK_TIMEOUT, WEBHOOK_UNREACHABLE } webhook_result;
typedef void (*webhook_done_fn)(void *ctx, webhook_result r, int status, const char *body, size_t len);
typedef struct webhook_req webhook_req;

/* The client vhost (no listening port) on the node's lws context. */
int webhook_start(struct node_ctx *node, char *err, size_t errlen);

/* NULL only when url is not http(s)://host[:port]/path or out of memory
 * (done is not called then). */
webhook_req *webhook_post(struct node_ctx *node, const char *url, const char *json, uint32_t timeout_ms,
                          webhook_done_fn done, void *ctx);
/* The asker is gone: done is never called for r. */
void webhook_cancel(webhook_req *r);

#endif
