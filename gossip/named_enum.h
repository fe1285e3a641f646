/* named_enum.h - an enum whose names and messages come from one X-macro
 * table (libuv's UV_ERRNO_MAP is the model), declared and defined by one
 * macro each so that every such table in the tree is written the same way.
 *
 *   #define MY_ERROR_MAP(X, P) X(P, OK, "ok", "fine") X(P, BAD, "bad", "not fine")
 *   SHOAL_NAMED_ENUM(my_error, MY_ERROR_, MY_ERROR_MAP)      in the header:
 *       typedef enum my_error { MY_ERROR_OK, MY_ERROR_BAD, MY_ERROR_COUNT } my_error;
 *       const char *my_error_name(my_error e);     "bad" ("unknown" out of range)
 *       const char *my_error_message(my_error e);  "not fine"
 *   SHOAL_NAMED_ENUM_DEFINE(my_error, MY_ERROR_, MY_ERROR_MAP) in one .c file */
#ifndef SHOAL_NAMED_ENUM_H
#define SHOAL_NAMED_ENUM_H

#define SHOAL_NAMED_ITEM_(P, e, name, msg) P##e,
#define SHOAL_NAMED_NAME_(P, e, name, msg) name,
#define SHOAL_NAMED_MSG_(P, e, name, msg) msg,

#define SHOAL_NAMED_ENUM(type, P, MAP)                                                                  \
    typedef enum type { MAP(SHOAL_NAMED_ITEM_, P) P##COUNT } type;                                     \
    const char *type##_name(type e);                                                                  \
    const char *type##_message(type e);

#define SHOAL_NAMED_ENUM_DEFINE(type, P, MAP)                                                           \
    static const char *const type##_names_[] = {MAP(SHOAL_NAMED_NAME_, P)};                          \
    static const char *const type##_messages_[] = {MAP(SHOAL_NAMED_MSG_, P)};                        \
    const char *type##_name(type e) { return (unsigned)e < P##COUNT ? type##_names_[e] : "unknown"; } \
    const char *type##_message(type e) { return (unsigned)e < P##COUNT ? type##_messages_[e] : "unknown"; }

#endif
