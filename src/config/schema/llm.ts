import { Type } from "@sinclair/typebox";
import { Duration, Strict, StringEnum } from "./fragments.js";

export const LLM_KINDS = ["llama-cpp", "ollama", "openai-compatible"] as const;
export const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal", "cpu"] as const;

const Count = (title: string, description: string, minimum = 1) => Type.Integer({ title, description, minimum });

/** orchestrator.yaml `llm:`: the local model behind judge gates and prompt rewriting. */
export const Llm = Strict(
  {
    kind: Type.Optional(
      StringEnum(LLM_KINDS, {
        title: "Provider",
        description: "llama-cpp (the model runs inside orc, the default), ollama, or openai-compatible (llama-server, vLLM, LM Studio).",
      }),
    ),
    model: Type.Optional(
      Type.String({
        title: "Model",
        description: "llama-cpp: a GGUF file (relative to this file) or an hf: URI, downloaded on first use. Servers: the model name.",
      }),
    ),
    url: Type.Optional(
      Type.String({ title: "Server URL", description: "ollama / openai-compatible: the server's base URL (default: the local default port)." }),
    ),
    api_key_env: Type.Optional(
      Type.String({ title: "API key variable", description: "Environment variable that holds the server's API key (never written anywhere)." }),
    ),
    gpu: Type.Optional(
      Type.Union([StringEnum(GPU_CHOICES, { title: "GPU", description: "auto picks CUDA, then Vulkan, else the CPU." }), Type.Literal(false)], {
        title: "GPU",
        description: "llama-cpp: the compute backend (auto, cuda, vulkan, metal, cpu; false means cpu). Default: auto.",
      }),
    ),
    threads: Type.Optional(Count("Threads", "llama-cpp: CPU threads. Default: node-llama-cpp's choice.")),
    context_size: Type.Optional(Count("Context size", "llama-cpp and Ollama (num_ctx): context window in tokens. Default: 8192.", 256)),
    gpu_layers: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.Literal("auto"), Type.Literal("max")], {
        title: "GPU layers",
        description: "llama-cpp: layers offloaded to the GPU (a number, auto or max). Default: auto.",
      }),
    ),
    timeout: Type.Optional(Duration({ title: "Timeout", description: "Longest one LLM request may take. Default: 2m." })),
    max_prompt_tokens: Type.Optional(
      Count("Prompt budget", "Most tokens a judge prompt or rewritten prompt may use; the evidence is cut to fit. Less where the model's context cannot also hold the answer. Default: 6000.", 256),
    ),
    max_output_tokens: Type.Optional(Count("Answer budget", "Most tokens of one answer. Default: 768.", 64)),
    optimize_prompts: Type.Optional(
      Type.Boolean({ title: "Rewrite retry prompts", description: "Let the LLM rewrite retry prompts, within the prompt budget. Default: false." }),
    ),
    models_dir: Type.Optional(Type.String({ title: "Models directory", description: "Where hf: models are downloaded. Default: STATE_DIR/models." })),
  },
  { title: "LLM", description: "The local LLM behind judge gates and prompt rewriting." },
);
