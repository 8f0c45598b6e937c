import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { LlmProvider } from "../../src/llm/port.js";

/**
 * Minimal Ollama and OpenAI-compatible servers on 127.0.0.1 that answer through a real provider (node-llama-cpp on
 * the tiny GGUF), speaking each protocol's request and response shapes. They record what they were sent.
 */
export interface ProtocolServer {
  readonly url: string;
  readonly requests: { readonly path: string; readonly headers: IncomingMessage["headers"]; readonly body: unknown }[];
  close(): Promise<void>;
}

type Handler = (path: string, body: Record<string, unknown>) => Promise<{ status: number; json: unknown }>;

async function serve(handler: Handler): Promise<ProtocolServer> {
  const requests: ProtocolServer["requests"][number][] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      const body = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
      const path = req.url ?? "/";
      requests.push({ path, headers: req.headers, body });
      void handler(path, body).then(({ status, json }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => { resolve(); })),
  };
}

interface Message {
  role: string;
  content: string;
}

async function answer(model: LlmProvider, messages: Message[], schema: Record<string, unknown>, maxTokens: number) {
  const system = messages.find((m) => m.role === "system")?.content ?? "";
  const prompt = messages.find((m) => m.role === "user")?.content ?? "";
  return model.complete({ system, prompt, schema, maxTokens, timeoutMs: 30_000, signal: new AbortController().signal });
}

export function ollamaServer(model: LlmProvider, name: string): Promise<ProtocolServer> {
  return serve(async (path, body) => {
    if (path === "/api/tags") return { status: 200, json: { models: [{ name: `${name}:latest` }] } };
    if (path !== "/api/chat") return { status: 404, json: { error: "not found" } };
    if (body.model !== name) return { status: 404, json: { error: `model "${String(body.model)}" not found` } };
    const options = body.options as { num_predict: number };
    const reply = await answer(model, body.messages as Message[], body.format as Record<string, unknown>, options.num_predict);
    if (!reply.ok) return { status: 500, json: { error: reply.failure.message } };
    return {
      status: 200,
      json: { model: name, message: { role: "assistant", content: reply.value.text }, done: true, prompt_eval_count: reply.value.evaluatedTokens, eval_count: reply.value.outputTokens },
    };
  });
}

export function openAiServer(model: LlmProvider, name: string): Promise<ProtocolServer> {
  return serve(async (path, body) => {
    if (path === "/v1/models") return { status: 200, json: { object: "list", data: [{ id: name, object: "model" }] } };
    if (path !== "/v1/chat/completions") return { status: 404, json: { error: { message: "not found" } } };
    const format = body.response_format as { type: string; json_schema: { schema: Record<string, unknown> } };
    const reply = await answer(model, body.messages as Message[], format.json_schema.schema, body.max_tokens as number);
    if (!reply.ok) return { status: 500, json: { error: { message: reply.failure.message } } };
    return {
      status: 200,
      json: {
        object: "chat.completion",
        model: name,
        choices: [{ index: 0, message: { role: "assistant", content: reply.value.text }, finish_reason: "stop" }],
        usage: {
          prompt_tokens: reply.value.promptTokens,
          completion_tokens: reply.value.outputTokens,
          prompt_tokens_details: { cached_tokens: reply.value.promptTokens - reply.value.evaluatedTokens },
        },
      },
    };
  });
}
