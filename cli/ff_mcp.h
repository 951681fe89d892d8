/* ff_mcp — `ff mcp`: the platform as a Model Context Protocol server on stdio, for AI agents.
 *
 * JSON-RPC 2.0, one message per line (the MCP stdio transport): initialize (protocol
 * revisions 2025-11-25, 2025-06-18, 2025-03-26 and 2024-11-05; a client asking for another
 * gets the newest), ping, tools/list and tools/call; notifications get no answer. The tools
 * are the CLI's own code paths: list_workflows (with each one's parameter schema),
 * upload_directory, start_scan, get_run, list_findings (with a baseline run or SARIF file),
 * get_logs and cancel_run. What goes wrong in a tool (a bad argument, the controller's
 * refusal, the controller down) is a tool result with isError and a text saying what;
 * JSON-RPC errors are for the protocol: -32700 a line that is not JSON, -32600 not a
 * JSON-RPC 2.0 request (no method, another "jsonrpc", an id neither string nor number),
 * -32601 an unknown method, -32602 bad params. Only protocol messages go to stdout (cmd_mcp
 * points fd 1 at stderr and keeps the real stdout for them); diagnostics go to stderr. */
#ifndef FF_MCP_H
#define FF_MCP_H

#include <stdio.h>

#include "ff_cmd.h"

#define FF_MCP_MAX_LINE	    (4u << 20) /* a longer request is refused */
#define FF_MCP_MAX_FINDINGS 200	       /* list_findings' default and top limit */

/* The answer to one line (a malloc'd JSON text, no newline), or NULL when none is due (a
 * notification, a blank line). ctx is the client the tools use. */
char *ff_mcp_handle(struct ff_cmd_ctx *ctx, const char *line, size_t len);
/* Answers each line of in on out, one line each, until in ends or out fails; EXIT_OK.
 * cmd_mcp runs it on stdin and stdout. */
int ff_mcp_serve(struct ff_cmd_ctx *ctx, FILE *in, FILE *out);

#endif
