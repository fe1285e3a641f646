/* outcome.h - every outcome a node reports with a name: why it does not
 * serve, why a roster change failed, where a client's connect went and why
 * it was refused. One table (an X-macro, as libuv's UV_ERRNO_MAP) gives each
 * its enum value, its name (what logs, the API and close reasons show), the
 * HTTP status of an API error, the WebSocket close code of a refused client
 * and a message for people.
 *
 *   X(ENUM, "NAME", http_status, close_code, "message")
 *
 * The names are the API's and the close reasons' words: they never change. */
#ifndef SHOAL_OUTCOME_H
#define SHOAL_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#define SHOAL_OUTCOME_MAP(X)                                                                                        \
    X(OK, "OK", 200, 1000, "done")                                                                                  \
    /* why a node does not serve (cluster_core) */                                                                 \
    X(NODE_LEAVING, "NODE-LEAVING", 503, 1013, "this node is shutting down")                                      \
    X(FILES_NOT_WRITABLE, "FILES-NOT-WRITABLE", 503, 1013, "this node cannot write its data or log files")        \
    X(CLUSTER_NOT_INITIALIZED, "CLUSTER-NOT-INITIALIZED", 503, 1013,                                               \
      "this node is not in an initialized cluster yet")                                                           \
    X(NODE_PURGED, "NODE-PURGED", 503, 1013, "this node was purged from the roster")                              \
    X(NODE_NOT_REGISTERED, "NODE-NOT-REGISTERED", 503, 1013,                                                       \
      "this regular node is not in the roster yet (registration pending)")                                        \
    X(CLUSTER_NOT_MAJORITY, "CLUSTER-NOT-MAJORITY", 503, 1013, "this node does not see a majority of the roster") \
    /* roster changes (cluster_core, raft) */                                                                      \
    X(ROSTER_CHANGE_TIMEOUT, "ROSTER-CHANGE-TIMEOUT", 503, 1011,                                                   \
      "no majority committed the change in time (no leader, or a partition)")                                     \
    X(CHANGE_IN_PROGRESS, "CHANGE-IN-PROGRESS", 409, 1011, "another roster change is not committed yet; try again") \
    X(CLUSTER_ALREADY_INITIALIZED, "CLUSTER-ALREADY-INITIALIZED", 409, 1011,                                       \
      "this node already belongs to a cluster; InitCluster is for wiped nodes")                                   \
    X(ALREADY_REGISTERED, "ALREADY-REGISTERED", 409, 1011, "this node is already in the roster")                  \
    X(WIPE_DATA_FIRST, "WIPE-DATA-FIRST", 409, 1011,                                                               \
      "this node was purged and still holds its old data: stop it, wipe data_dir, start it, register")            \
    X(NOT_A_MEMBER, "NOT-A-MEMBER", 404, 1011, "no such node in the roster")                                      \
    X(LAST_MEMBER, "LAST-MEMBER", 409, 1011, "the last node of a roster cannot be purged")                        \
    X(ROSTER_FULL, "ROSTER-FULL", 409, 1011, "the roster holds at most 32 regular nodes")                         \
    X(TEMPORARY_NODE, "TEMPORARY-NODE", 409, 1011, "temporary nodes are never in the roster")                     \
    X(SELF_NOT_IN_LIST, "SELF-NOT-IN-LIST", 400, 1011,                                                             \
      "node_name_list must contain the node that receives InitCluster")                                           \
    X(LEADER_CHANGED, "LEADER-CHANGED", 503, 1011, "the leader changed before the change was committed; try again") \
    X(LOG_FULL, "LOG-FULL", 507, 1011, "the roster log is full")                                                  \
    X(INVALID_CONTACT, "INVALID-CONTACT", 400, 1011, "contact_node_name must be name@a.b.c.d")                    \
    X(INVALID_NODE_LIST, "INVALID-NODE-LIST", 400, 1011, "node_name_list must be 1 to 32 names name@a.b.c.d")     \
    /* a client's connect (route.h, the node core's admission, the auth webhook) */                                \
    X(NOT_SERVING, "NOT-SERVING", 503, 1013, "this node does not serve")                                          \
    X(NODE_BLOCKS_NEW_CONNECTIONS, "NODE-BLOCKS-NEW-CONNECTIONS", 503, 1008,                                       \
      "the node's mode is block_new_connection")                                                                  \
    X(NODE_BLOCKS_NEW_SESSIONS, "NODE-BLOCKS-NEW-SESSIONS", 503, 1008, "the node's mode is block_new_session")    \
    X(NODE_FULL, "NODE-FULL", 503, 1013, "max_connections reached")                                               \
    X(CLUSTER_FULL, "CLUSTER-FULL", 503, 1013, "cluster_max_connections reached")                                 \
    X(CLAIM_FAILED, "CLAIM-FAILED", 503, 1013, "no majority of the roster recorded this node as the channel's")   \
    X(CLAIM_LOST, "CLAIM-LOST", 503, 1013, "the channel's claim lapsed; connect again")                           \
    X(NO_SIGNALING_URL, "NO-SIGNALING-URL", 503, 1013, "the channel's node publishes no public_signaling_url")    \
    X(AUTH_REJECTED, "AUTH-REJECTED", 403, 1008, "the auth webhook refused the client")                           \
    X(AUTH_WEBHOOK_TIMEOUT, "AUTH-WEBHOOK-TIMEOUT", 503, 1008, "the auth webhook did not answer in time")         \
    X(AUTH_WEBHOOK_UNREACHABLE, "AUTH-WEBHOOK-UNREACHABLE", 503, 1008, "no connection to auth_webhook_url")       \
    X(AUTH_WEBHOOK_ERROR, "AUTH-WEBHOOK-ERROR", 503, 1008, "the auth webhook's answer is not usable")             \
    /* a relay connection's handshake (relay/handshake.h) */                                                      \
    X(RELAY_PROTOCOL_MISMATCH, "RELAY-PROTOCOL-MISMATCH", 502, 1011, "the peer speaks another relay protocol")    \
    X(RELAY_FOREIGN_CLUSTER, "RELAY-FOREIGN-CLUSTER", 502, 1011,                                                   \
      "the peer belongs to another cluster (name or roster), or this node to none yet")                           \
    X(RELAY_SELF, "RELAY-SELF", 502, 1011, "the connection came from this node itself")                          \
    X(RELAY_NOT_A_MEMBER, "RELAY-NOT-A-MEMBER", 502, 1011, "the peer is not an alive member of this cluster")    \
    X(RELAY_VERSION_MISMATCH, "RELAY-VERSION-MISMATCH", 502, 1011,                                                 \
      "nodes of different versions do not relay (a rolling update)")                                              \
    X(RELAY_BAD_HELLO, "RELAY-BAD-HELLO", 502, 1011, "the first frame was not a well-formed HELLO")              \
    X(RELAY_HANDSHAKE_TIMEOUT, "RELAY-HANDSHAKE-TIMEOUT", 502, 1011, "no HELLO within 5 s")                      \
    X(RELAY_REFUSED, "RELAY-REFUSED", 502, 1011, "the peer refused for a reason this node does not know")

typedef enum shoal_outcome {
#define SHOAL_OUTCOME_ENUM(e, name, http, close, msg) SHOAL_##e,
    SHOAL_OUTCOME_MAP(SHOAL_OUTCOME_ENUM)
#undef SHOAL_OUTCOME_ENUM
        SHOAL_OUTCOME_COUNT
} shoal_outcome;

const char *shoal_outcome_name(shoal_outcome o);    /* "CLUSTER-NOT-MAJORITY" */
const char *shoal_outcome_message(shoal_outcome o); /* for people */
int shoal_outcome_http(shoal_outcome o);            /* an API error's status */
uint16_t shoal_outcome_close(shoal_outcome o);      /* a refused client's close code */
/* The outcome named name; false when no outcome has that name. */
bool shoal_outcome_parse(const char *name, shoal_outcome *out);

#endif
