// _ViZDoomShim: a small C API over vizdoom::DoomGame (filled in by the ViZDoom binding work).
#pragma once
