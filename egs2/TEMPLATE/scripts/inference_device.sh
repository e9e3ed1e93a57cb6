# Where stages 3 (speaker embeddings), 6 (inference) and 7 (scoring) run (sourced by sttatts.sh and
# dmel.sh after their options are parsed). Reads gpu_inference (true, false, or auto = true when
# --ngpu > 0) and ngpu; sets device (cpu|cuda) and inference_ngpu (0|1: GPUs per decoding job).
if [ "${gpu_inference}" = auto ]; then
  gpu_inference=false
  [ "${ngpu}" -gt 0 ] && gpu_inference=true
fi
case "${gpu_inference}" in
  true) device=cuda; inference_ngpu=1 ;;
  false) device=cpu; inference_ngpu=0 ;;
  *) log "--gpu_inference ${gpu_inference}: expected true, false or auto"; exit 1 ;;
esac
