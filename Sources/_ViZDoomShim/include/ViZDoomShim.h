// _ViZDoomShim: a small C API over vizdoom::DoomGame (ViZDoom 1.3.2's C++ client library).
//
// Why a shim: Swift's C++ interoperability cannot catch C++ exceptions, and ViZDoom reports every
// failure (missing file, engine crash, a call on a stopped game) by throwing. Every function here
// that can fail catches everything and returns a VZDStatus, with the engine's message copied into
// the caller's VZDError. No C++ exception crosses this boundary.
//
// Threading: a VZDGame is not thread-safe; use each game from one thread at a time.
// Lifetime: buffers returned by vzd_screen/vzd_game_variables stay valid until the next call that
// changes the game's state (make_action, new_episode, close, destroy).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Errors

/// What went wrong, by kind. The message says the rest.
typedef enum VZDStatus {
    VZD_OK = 0,
    VZD_ERROR_ENGINE = 1,           ///< ViZDoomErrorException: the engine or the client refused.
    VZD_ERROR_ENGINE_EXITED = 2,    ///< ViZDoomUnexpectedExitException: the engine process ended.
    VZD_ERROR_NOT_RUNNING = 3,      ///< ViZDoomIsNotRunningException: init() was not called or the game was closed.
    VZD_ERROR_FILE_NOT_FOUND = 4,   ///< FileDoesNotExistException: the message is the path.
    VZD_ERROR_IPC = 5,              ///< Shared memory or message queue failure.
    VZD_ERROR_INVALID_ARGUMENT = 6, ///< Rejected by the shim before reaching the library.
    VZD_ERROR_OTHER = 9,            ///< Any other std::exception, or a non-standard exception.
} VZDStatus;

typedef struct VZDError {
    VZDStatus status;
    char message[1024];
} VZDError;

// MARK: - Settings

/// Boolean settings (render flags and window/sound switches), set before vzd_init.
typedef enum VZDBoolSetting {
    VZD_RENDER_HUD = 0,
    VZD_RENDER_MINIMAL_HUD,
    VZD_RENDER_WEAPON,
    VZD_RENDER_CROSSHAIR,
    VZD_RENDER_DECALS,
    VZD_RENDER_PARTICLES,
    VZD_RENDER_EFFECTS_SPRITES,
    VZD_RENDER_MESSAGES,
    VZD_RENDER_CORPSES,
    VZD_RENDER_SCREEN_FLASHES,
    VZD_WINDOW_VISIBLE,
    VZD_SOUND_ENABLED,
    VZD_CONSOLE_ENABLED,
} VZDBoolSetting;

/// Integer settings. Enumerations (resolution, format, mode) take ViZDoom's numeric values.
typedef enum VZDIntSetting {
    VZD_EPISODE_TIMEOUT = 0,  ///< tics; 0 = no timeout
    VZD_EPISODE_START_TIME,   ///< tics skipped at the start of every episode
    VZD_SEED,                 ///< the engine's random seed
    VZD_SCREEN_RESOLUTION,    ///< vizdoom::ScreenResolution (write only)
    VZD_SCREEN_FORMAT,        ///< vizdoom::ScreenFormat
    VZD_MODE,                 ///< vizdoom::Mode
    VZD_DOOM_SKILL,           ///< 1...5
    VZD_TICRATE,              ///< tics per second in asynchronous modes
    VZD_SCREEN_WIDTH,         ///< read only
    VZD_SCREEN_HEIGHT,        ///< read only
    VZD_SCREEN_CHANNELS,      ///< read only
    VZD_EPISODE_TIME,         ///< read only: tics since the episode started
} VZDIntSetting;

typedef enum VZDDoubleSetting {
    VZD_LIVING_REWARD = 0,
    VZD_DEATH_PENALTY,
} VZDDoubleSetting;

typedef enum VZDStringSetting {
    VZD_VIZDOOM_PATH = 0,     ///< the engine executable (here: the launcher)
    VZD_DOOM_GAME_PATH,       ///< the IWAD (freedoom2.wad)
    VZD_DOOM_SCENARIO_PATH,   ///< the scenario's .wad
    VZD_DOOM_MAP,             ///< e.g. "map01"
    VZD_DOOM_CONFIG_PATH,     ///< where the engine writes its .ini
} VZDStringSetting;

// MARK: - Lifetime

typedef struct VZDGame VZDGame;

/// A new game, not yet started. Never NULL unless memory is exhausted.
VZDGame *vzd_create(void);
/// Closes the game (ending its engine) and frees it. NULL is ignored.
void vzd_destroy(VZDGame *game);

/// Reads a ViZDoom .cfg file. Relative paths inside it are relative to the file.
VZDStatus vzd_load_config(VZDGame *game, const char *path, VZDError *error);

VZDStatus vzd_set_bool(VZDGame *game, VZDBoolSetting setting, int value, VZDError *error);
VZDStatus vzd_set_int(VZDGame *game, VZDIntSetting setting, int64_t value, VZDError *error);
VZDStatus vzd_get_int(VZDGame *game, VZDIntSetting setting, int64_t *value, VZDError *error);
VZDStatus vzd_set_double(VZDGame *game, VZDDoubleSetting setting, double value, VZDError *error);
VZDStatus vzd_get_double(VZDGame *game, VZDDoubleSetting setting, double *value, VZDError *error);
VZDStatus vzd_set_string(VZDGame *game, VZDStringSetting setting, const char *value, VZDError *error);
/// Copies the setting into `buffer` (NUL-terminated, truncated to `capacity`).
VZDStatus vzd_get_string(VZDGame *game, VZDStringSetting setting, char *buffer, size_t capacity, VZDError *error);

// MARK: - Buttons and game variables (ViZDoom's numeric codes)

VZDStatus vzd_clear_buttons(VZDGame *game, VZDError *error);
VZDStatus vzd_add_button(VZDGame *game, int button, VZDError *error);
/// Writes up to `capacity` codes into `buttons`; `count` receives the total number.
VZDStatus vzd_get_buttons(VZDGame *game, int *buttons, size_t capacity, size_t *count, VZDError *error);
VZDStatus vzd_clear_game_variables(VZDGame *game, VZDError *error);
VZDStatus vzd_add_game_variable(VZDGame *game, int variable, VZDError *error);
VZDStatus vzd_get_game_variables(VZDGame *game, int *variables, size_t capacity, size_t *count, VZDError *error);

/// Number of button / game variable codes the library knows (43 and 139 in 1.3.2).
int vzd_button_code_count(void);
int vzd_game_variable_code_count(void);
/// The library's name of a code ("MOVE_LEFT", "AMMO2"), written into `buffer`; 0 if unknown.
int vzd_button_name(int button, char *buffer, size_t capacity);
int vzd_game_variable_name(int variable, char *buffer, size_t capacity);

// MARK: - Running

/// Starts the engine process. Fails with the engine's message if it cannot start.
VZDStatus vzd_init(VZDGame *game, VZDError *error);
/// Ends the engine process, if any. Safe to call twice.
VZDStatus vzd_close(VZDGame *game, VZDError *error);
int vzd_is_running(VZDGame *game);
/// The running engine's instance id (the suffix of its /dev/shm segment names), into `buffer`.
VZDStatus vzd_instance_id(VZDGame *game, char *buffer, size_t capacity, VZDError *error);
VZDStatus vzd_new_episode(VZDGame *game, VZDError *error);
/// Sets the buttons to `action[0..<count]` (count must equal the number of available buttons),
/// advances `tics` tics, and stores the reward collected over them in `reward`.
VZDStatus vzd_make_action(VZDGame *game, const double *action, size_t count, unsigned tics,
                          double *reward, VZDError *error);
VZDStatus vzd_is_episode_finished(VZDGame *game, int *finished, VZDError *error);
VZDStatus vzd_is_player_dead(VZDGame *game, int *dead, VZDError *error);
VZDStatus vzd_total_reward(VZDGame *game, double *reward, VZDError *error);

/// The current frame: a pointer into the game's current state (NULL when the episode is finished),
/// its width, height and channels. Valid until the next state change.
VZDStatus vzd_screen(VZDGame *game, const uint8_t **pixels, int *width, int *height, int *channels,
                     VZDError *error);
/// One game variable's current value, read from the engine's game state (DoomGame::getGameVariable):
/// unlike the state's variables, still readable once the episode has finished, where it holds the
/// value of the episode's last tic (the kill that ended it included).
VZDStatus vzd_get_game_variable(VZDGame *game, int variable, double *value, VZDError *error);
/// The current state's game variables (in the order they were added), and the state's tic.
VZDStatus vzd_game_variables(VZDGame *game, const double **values, size_t *count, unsigned *tic,
                             VZDError *error);

// MARK: - Installation

/// Where scripts/bootstrap installed the engine and its assets, fixed when the package was built.
const char *vzd_default_home(void);

#ifdef __cplusplus
}
#endif
