/**
 * FAKE OpenAI-compatible Chat Completions API (`POST /v1/chat/completions`, streamed) for driving the real `opencode`
 * CLI in tests. Scripts are picked by a marker in the prompt, `[[fake:NAME ARGS]]`:
 *   write FILE       a `write` tool call (path relative to the workspace), then a final text
 *   fix-on-retry     writes good.txt only when the conversation already holds an earlier prompt (a continued
 *                    session), else bad.txt
 *   status CODE      answers with that HTTP error
 * Requests without tools (OpenCode's title generation) get a short text. Every request is recorded.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { LoopbackServer } from "./loopback-server.js";

export interface FakeChatRequest {
  readonly script: string;
  readonly messages: number;
  readonly hasTools: boolean;
  readonly body: string;
}

interface Msg {
  role: string;
  content: unknown;
}

const MARKER = /\[\[fake:([a-z-]+)((?: [^\]\s"\\]+)*)\]\]/;

export class FakeOpenAI {
  readonly requests: FakeChatRequest[] = [];
  private readonly http = new LoopbackServer();
  private n = 0;
  url = "";

  async start(): Promise<string> {
    const port = await this.http.start((req, res) => {
      this.handle(req, res);
    });
    this.url = `http://127.0.0.1:${port}/v1`;
    return this.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** OpenCode configuration (OPENCODE_CONFIG_CONTENT) with one provider, `fake`, pointing here. */
  opencodeConfig(): string {
    return JSON.stringify({
      autoupdate: false,
      share: "disabled",
      provider: { fake: { npm: "@ai-sdk/openai-compatible", name: "Fake", options: { baseURL: this.url, apiKey: "test" }, models: { "fake-model": { name: "Fake model" } } } },
      model: "fake/fake-model",
    });
  }

  for(script: string): FakeChatRequest[] {
    return this.requests.filter((r) => r.script === script && r.hasTools);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const parsed = JSON.parse(body || "{}") as { messages?: Msg[]; tools?: unknown[]; model?: string };
      const messages = parsed.messages ?? [];
      const hasTools = (parsed.tools?.length ?? 0) > 0;
      const marker = MARKER.exec(body);
      const script = marker?.[1] ?? "none";
      const args = (marker?.[2] ?? "").trim().split(" ").filter((a) => a !== "");
      this.requests.push({ script, messages: messages.length, hasTools, body });
      const n = ++this.n;
      if (script === "status") {
        res.writeHead(Number(args[0] ?? 500), { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: Record<string, number>): void => {
        const data = { id: `c${n}`, object: "chat.completion.chunk", created: 1, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }], ...(usage === undefined ? {} : { usage }) };
        res.write(`data: ${JSON.stringify(data)}\n\n`);
      };
      const text = (t: string): void => {
        chunk({ role: "assistant", content: t });
        chunk({}, "stop", { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128 });
      };
      const write = (file: string): void => {
        chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, id: `call_${n}`, type: "function", function: { name: "write", arguments: "" } }] });
        chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ filePath: file, content: `written by the fake model: ${file}\n` }) } }] });
        chunk({}, "tool_calls", { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 });
      };
      const last = messages.at(-1);
      if (!hasTools) text("Fake title");
      else if (last?.role === "tool") text("Done. I wrote the file.");
      else if (script === "write") write(args[0] ?? "out.txt");
      else if (script === "fix-on-retry") write((body.match(/\[\[fake:fix-on-retry\]\]/g)?.length ?? 0) >= 2 ? "good.txt" : "bad.txt");
      else text("nothing scripted");
      res.write("data: [DONE]\n\n");
      res.end();
    });
  }
}
