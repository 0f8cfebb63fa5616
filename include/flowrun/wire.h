/*
 * flowrun/wire.h — the message format between stage instances.
 *
 * It crosses threads (inproc://), processes (ipc://) and hosts (tcp://), and
 * flowrun versions, so it is specified here byte by byte; an implementation
 * in another language needs nothing else.  All integers little-endian.
 *
 * A message is a ZeroMQ multipart message:
 *
 *   DATA:  frame 1 = header, frame 2 = payload bytes (possibly empty)
 *   EOS:   frame 1 = header only (the sending instance has finished)
 *
 * Header frame:
 *   off size field
 *    0   2   magic 'F' 'R'
 *    2   1   wire major (FR_WIRE_MAJOR): a reader refuses another major
 *    3   1   wire minor (FR_WIRE_MINOR): a reader accepts any minor and
 *            ignores fixed fields it does not know (skips to fixed_size)
 *    4   2   fixed_size: bytes from offset 0 to the string table
 *    6   1   type: FR_WIRE_DATA or FR_WIRE_EOS
 *    7   1   payload kind (fr_kind in record.h)
 *    8   1   rank (0..4)
 *    9   3   reserved, 0
 *   12  16   dims[4], u32 each, unused ones 0
 *   28   8   model_version, u64
 *   36   4   attribute count A, u32
 *   40  ...  string table: 4 + 2A strings, each a u32 byte length then the
 *            bytes, no terminator, UTF-8:
 *            id, key, label, media, then name/value for each attribute.
 *            For EOS, key holds the sender "<stage>#<instance>".
 *
 * The header is small (≈100 bytes); the payload travels as its own frame so
 * large tensors are handed to ZeroMQ without a copy.
 */
#ifndef FLOWRUN_WIRE_H
#define FLOWRUN_WIRE_H

#ifdef __cplusplus
extern "C" {
#endif

#define FR_WIRE_MAGIC0     'F'
#define FR_WIRE_MAGIC1     'R'
#define FR_WIRE_MAJOR      1
#define FR_WIRE_MINOR      0
#define FR_WIRE_FIXED_SIZE 40

enum fr_wire_type {
    FR_WIRE_DATA = 1,
    FR_WIRE_EOS = 2,
};

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_WIRE_H */
