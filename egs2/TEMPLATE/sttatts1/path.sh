# Environment of every recipe stage: the project's venv, its scripts, single-threaded BLAS.
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
export MAIN_ROOT
if [ -f "${MAIN_ROOT}/tools/venv/bin/activate" ]; then
  # shellcheck disable=SC1091
  . "${MAIN_ROOT}/tools/venv/bin/activate"
fi
export PATH="${MAIN_ROOT}/egs2/TEMPLATE/scripts:${PATH}"
export OMP_NUM_THREADS=1
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
