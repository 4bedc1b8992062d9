// Device query for the cuda role's verification: compiled with the installed nvcc and run once.
// Prints one line per device, or "error: <reason>"; exits 0 either way (a host without a GPU is
// not a compiler failure).
#include <cstdio>
#include <cuda_runtime.h>

int main() {
    int runtime = 0, driver = 0, count = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    printf("runtime %d.%d driver %d.%d\n", runtime / 1000, (runtime % 1000) / 10, driver / 1000, (driver % 1000) / 10);
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        printf("error: %s\n", cudaGetErrorString(err));
        return 0;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        printf("device %d: %s, compute capability %d.%d, %zu MiB, %d SMs\n", i, prop.name, prop.major, prop.minor,
               prop.totalGlobalMem >> 20, prop.multiProcessorCount);
    }
    printf("devices %d\n", count);
    return 0;
}
