/**
 * FAKE Anthropic Messages API for driving the real `claude` CLI in tests: `POST /v1/messages` answered with the
 * standard SSE sequence. Each prompt picks its script with a marker, `[[fake:NAME ARGS]]`, so one server serves a
 * whole test file:
 *   write FILE          Write FILE (in the workspace the CLI reports), then a final text
 *   multi F1 F2 …       one Write per turn, then a final text
 *   fix-on-retry        writes good.txt only when the conversation already holds an earlier prompt (a resumed
 *                       session), else bad.txt
 *   outside             Write outside the workspace (the CLI's permission check refuses it)
 *   status CODE         answers every request with that HTTP error
 *   limit-once FILE [S] the first request of each session: 429 "usage limit reached|RESET" (S seconds ahead,
 *                       default 2); then `write`
 *   limit-far           every request: 429 with a reset an hour ahead
 *   stall               headers and message_start, then silence
 *   stall-once FILE     the first request for this marker stalls; later ones `write`
 * Every request is recorded (script, session header, message count) for the test to assert on.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { LoopbackServer } from "./loopback-server.js";

export interface FakeRequest {
  readonly script: string;
  readonly args: readonly string[];
  readonly sessionId: string | undefined;
  readonly messages: number;
  readonly body: string;
  /** When the request arrived (ms since the epoch). */
  readonly at: number;
}

interface Msg {
  role: string;
  content: string | { type: string; text?: string; tool_use_id?: string }[];
}

const MARKER = /\[\[fake:([a-z-]+)((?: [^\]\s]+)*)\]\]/;

export class FakeAnthropic {
  readonly requests: FakeRequest[] = [];
  private readonly http = new LoopbackServer();
  private readonly seen = new Set<string>();
  private n = 0;
  url = "";

  async start(): Promise<string> {
    const port = await this.http.start((req, res) => {
      this.handle(req, res);
    });
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** Environment for the `claude` child (through orc's own environment). */
  env(): Record<string, string> {
    return {
      ANTHROPIC_BASE_URL: this.url,
      ANTHROPIC_API_KEY: "test",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "0",
    };
  }

  for(script: string): FakeRequest[] {
    return this.requests.filter((r) => r.script === script);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const parsed = JSON.parse(body || "{}") as { messages?: Msg[]; tools?: unknown[]; model?: string };
      const messages = parsed.messages ?? [];
      const marker = MARKER.exec(body);
      const script = marker?.[1] ?? "none";
      const args = (marker?.[2] ?? "").trim().split(" ").filter((a) => a !== "");
      const sessionHeader = req.headers["x-claude-code-session-id"];
      const sessionId = typeof sessionHeader === "string" ? sessionHeader : undefined;
      this.requests.push({ script, args, sessionId, messages: messages.length, body, at: Date.now() });
      const cwd = /Primary working directory: ([^\s\\"]+)/.exec(body)?.[1] ?? "/nonexistent";
      const toolResults = this.toolResultsSincePrompt(messages);
      const hasTools = (parsed.tools?.length ?? 0) > 0;
      const sse = new Sse(res, parsed.model ?? "claude-fake", ++this.n);

      if (script === "status") {
        res.writeHead(Number(args[0] ?? 500), { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }));
        return;
      }
      if (script === "limit-once" && !this.seen.has(`limit:${sessionId ?? ""}`)) {
        this.seen.add(`limit:${sessionId ?? ""}`);
        const reset = Math.ceil(Date.now() / 1000) + Number(args[1] ?? 2);
        res.writeHead(429, { "content-type": "application/json", "retry-after": "0" });
        res.end(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: `Claude AI usage limit reached|${reset}` } }));
        return;
      }
      if (script === "limit-far") {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "0" });
        res.end(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: `Claude AI usage limit reached|${Math.ceil(Date.now() / 1000) + 3600}` } }));
        return;
      }
      if (script === "stall" || (script === "stall-once" && !this.seen.has("stall-once"))) {
        this.seen.add("stall-once");
        sse.start();
        return; // never ends: the socket is destroyed by stop()
      }
      if (!hasTools) {
        sse.text("ok");
        return;
      }
      const write = (file: string): void => {
        sse.toolUse("Write", { file_path: file.startsWith("/") ? file : `${cwd}/${file}`, content: `written by the fake model: ${file}\n` });
      };
      if (toolResults > 0 && script !== "multi") {
        sse.text(`Done. I wrote the file${script === "outside" ? " outside" : ""} and everything works.`);
        return;
      }
      switch (script) {
        case "write":
        case "limit-once":
        case "stall-once":
          write(args[0] ?? "out.txt");
          return;
        case "multi": {
          const next = args[toolResults];
          if (next === undefined) sse.text(`Done: wrote ${args.join(", ")}.`);
          else write(next);
          return;
        }
        case "fix-on-retry":
          // A resumed session carries the first prompt in its history, and the retry prompt repeats it.
          write((body.match(/\[\[fake:fix-on-retry\]\]/g)?.length ?? 0) >= 2 ? "good.txt" : "bad.txt");
          return;
        case "outside":
          write(`/tmp/orc-fake-outside-${process.pid}/outside.txt`);
          return;
        default:
          sse.text("nothing scripted");
      }
    });
  }

  /** tool_result blocks after the last prompt the user typed. */
  private toolResultsSincePrompt(messages: readonly Msg[]): number {
    let count = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m?.role !== "user") continue;
      const blocks = typeof m.content === "string" ? [{ type: "text" }] : m.content;
      const results = blocks.filter((b) => b.type === "tool_result").length;
      if (results === 0) break;
      count += results;
    }
    return count;
  }
}

class Sse {
  constructor(
    private readonly res: ServerResponse,
    private readonly model: string,
    private readonly n: number,
  ) {}

  start(): void {
    this.res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    this.send("message_start", {
      message: { id: `msg_${this.n}`, type: "message", role: "assistant", model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 100, output_tokens: 1, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 } },
    });
  }

  text(text: string): void {
    this.start();
    this.send("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    this.send("content_block_delta", { index: 0, delta: { type: "text_delta", text } });
    this.send("content_block_stop", { index: 0 });
    this.end("end_turn");
  }

  toolUse(name: string, input: Record<string, unknown>): void {
    this.start();
    this.send("content_block_start", { index: 0, content_block: { type: "tool_use", id: `toolu_${this.n}`, name, input: {} } });
    this.send("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: JSON.stringify(input) } });
    this.send("content_block_stop", { index: 0 });
    this.end("tool_use");
  }

  private end(reason: string): void {
    this.send("message_delta", { delta: { stop_reason: reason, stop_sequence: null }, usage: { output_tokens: 20 } });
    this.send("message_stop", {});
    this.res.end();
  }

  private send(event: string, data: Record<string, unknown>): void {
    this.res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  }
}
