# Job back ends for the stages (Kaldi's *_cmd convention). Pick one block.
#   local: jobs run on this machine (default);
#   slurm: each job through 'srun' (--gpu N becomes --gres=gpu:N); extra options: SLURM_EXTRA_OPTS;
#   ssh:   jobs spread over SSH_HOSTS="host1,host2" (shared file system).
cmd_backend=${cmd_backend:-local}

export train_cmd="python -m espnet_ext.bin.run_jobs --backend ${cmd_backend}"
export cuda_cmd="python -m espnet_ext.bin.run_jobs --backend ${cmd_backend}"
export decode_cmd="python -m espnet_ext.bin.run_jobs --backend ${cmd_backend}"
