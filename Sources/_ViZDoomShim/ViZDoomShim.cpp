#include "ViZDoomShim.h"
