# The PyTorch interop tests (tools/pytorch), included from the top CMakeLists.txt's end-to-end section.
# They run Debian's /usr/bin/python3, which has python3-torch (./studio.sh setup installs it); a python3 found
# first on PATH (pyenv's, say) may have no torch. Without torch they fail; they never skip.
# Work files go to build/pytorch. About 70 s in all on 2 cores.
set(VAE_TORCH_PYTHON /usr/bin/python3 CACHE FILEPATH "a Python 3 with PyTorch for the tests/pytorch tests")
set(pytorch_driver ${CMAKE_SOURCE_DIR}/tests/pytorch/test_interop.py)
set(pytorch_work ${CMAKE_BINARY_DIR}/pytorch)

# Our engine's posterior and reconstruction of the shipped test digits, for PyTorch to match.
add_executable(pytorch_engine_reconstruct tests/pytorch/engine_reconstruct.cpp)
target_link_libraries(pytorch_engine_reconstruct PRIVATE vae)

# a. Trained in PyTorch (3,000 images, 3 epochs, F16 export; resumed after epoch 2 to the same weights), then
#    the grey test ELBO of 2,000 images by `vae eval --samples 100` and by PyTorch within 0.05 nats.
add_test(NAME pytorch_train_eval
  COMMAND ${VAE_TORCH_PYTHON} ${pytorch_driver} train-eval --vae $<TARGET_FILE:vae_cli> --work ${pytorch_work}/train-eval)
set_tests_properties(pytorch_train_eval PROPERTIES TIMEOUT 150)

# b. Our shipped models (with their map.* and pca.* tensors) in PyTorch: the engine's mu and logvar of the 100
#    shipped test digits and its decoder means at those codes to 1e-5.
foreach(z z2 z32)
  add_test(NAME pytorch_reconstruct_${z}
    COMMAND ${VAE_TORCH_PYTHON} ${pytorch_driver} reconstruct --engine $<TARGET_FILE:pytorch_engine_reconstruct>
            --model ${CMAKE_SOURCE_DIR}/assets/mnist-${z}.safetensors
            --digits ${CMAKE_SOURCE_DIR}/assets/mnist-test-100.safetensors --work ${pytorch_work}/reconstruct-${z})
  set_tests_properties(pytorch_reconstruct_${z} PROPERTIES TIMEOUT 60)
endforeach()

# c. DistributedDataParallel on two CPU processes (gloo) by torchrun and by mp.spawn: the ranks agree, the two
#    launchers train the same weights, the file loads.
add_test(NAME pytorch_ddp
  COMMAND ${VAE_TORCH_PYTHON} ${pytorch_driver} ddp --vae $<TARGET_FILE:vae_cli> --work ${pytorch_work}/ddp)
set_tests_properties(pytorch_ddp PROPERTIES TIMEOUT 200)

# d. Plain state dicts without our metadata (F32, BF16, {"format": "pt"}, another architecture) load in `vae`.
add_test(NAME pytorch_state_dict
  COMMAND ${VAE_TORCH_PYTHON} ${pytorch_driver} state-dict --vae $<TARGET_FILE:vae_cli>
          --model ${CMAKE_SOURCE_DIR}/assets/mnist-z2.safetensors --work ${pytorch_work}/state-dict)
set_tests_properties(pytorch_state_dict PROPERTIES TIMEOUT 90)

# The Python safetensors reader (tools/pytorch/vae.py) on our file and on broken ones.
add_test(NAME pytorch_safetensors_reader
  COMMAND ${VAE_TORCH_PYTHON} ${pytorch_driver} reader --model ${CMAKE_SOURCE_DIR}/assets/mnist-z2.safetensors)
set_tests_properties(pytorch_safetensors_reader PROPERTIES TIMEOUT 30)
