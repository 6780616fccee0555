# Sourced by the layer-board benchmarks that take BUILD_DIR BOARD CONFIG [CLASS] [SEED] [DATA]
# [-- extra flame eval args]: sets BUILD, BOARD_NAME, CONFIG, CLASS (default tight), SEED (default 1),
# SRC, DATA (default the shipped H200 run 2), FLAME, and leaves the extra arguments in "$@".
BUILD=${1:?build dir}
BOARD_NAME=${2:?layer-tx2 or layer-orin}
CONFIG=${3:?configuration tag}
CLASS=${4:-tight}
SEED=${5:-1}
SRC=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
DATA=${6:-$SRC/data/h200-coupling/run2/coupling.json}
shift $(($# < 6 ? $# : 6))
[[ ${1:-} == -- ]] && shift
FLAME="$BUILD/tools/flame"
