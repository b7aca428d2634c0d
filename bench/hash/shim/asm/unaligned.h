#include "../kernel-shim.h"
