"""Fake `vllm bench throughput` (same arguments as far as tests/gpu/vllm_bench.sh uses them)."""
import json
import time

from vllm._fake import LLM, SamplingParams


def add_cli_args(parser):
    parser.add_argument("--model", required=True)
    parser.add_argument("--load-format", default="auto")
    parser.add_argument("--dataset-name", default="sharegpt")
    parser.add_argument("--random-input-len", type=int, default=1024)
    parser.add_argument("--random-output-len", type=int, default=128)
    parser.add_argument("--num-prompts", type=int, default=1000)
    parser.add_argument("--output-json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--enforce-eager", action="store_true")
    parser.add_argument("--attention-backend")


def main(args):
    llm = LLM(model=args.model, load_format=args.load_format, seed=args.seed, disable_log_stats=False)
    prompts = [{"prompt_token_ids": [5] * args.random_input_len} for _ in range(args.num_prompts)]
    params = [SamplingParams(n=1, temperature=1.0, top_p=1.0, ignore_eos=True, max_tokens=args.random_output_len)
              for _ in prompts]
    start = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=True)
    elapsed = time.perf_counter() - start
    out_tok = sum(len(o.outputs[0].token_ids) for o in outs)
    total = out_tok + sum(len(o.prompt_token_ids) for o in outs)
    print("Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s" % (
        len(outs) / elapsed, total / elapsed, out_tok / elapsed))
    print("Total num prompt tokens:  %d" % (total - out_tok))
    print("Total num output tokens:  %d" % out_tok)
    if args.output_json:
        with open(args.output_json, "w") as handle:
            json.dump({"elapsed_time": elapsed, "num_requests": len(outs), "total_num_tokens": total,
                       "requests_per_second": len(outs) / elapsed, "tokens_per_second": total / elapsed}, handle, indent=4)
    llm.llm_engine.engine_core.shutdown()
