// _ViZDoomShim: see include/ViZDoomShim.h. Every entry point that can fail runs its body inside
// `guarded`, which turns each of ViZDoom's exception types into a VZDStatus and a message.
#include "ViZDoomShim.h"

#include <ViZDoom.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef A3C_VIZDOOM_HOME
#define A3C_VIZDOOM_HOME ""
#endif

struct VZDGame {
    vizdoom::DoomGame game;
    /// Reused for every action so that stepping does not allocate on our side.
    std::vector<double> action;
    /// Keeps the current state (and so its screen buffer) alive between calls.
    vizdoom::GameStatePtr state;
};

namespace {

void fill(VZDError *error, VZDStatus status, const std::string &message) {
    if (!error) return;
    error->status = status;
    std::strncpy(error->message, message.c_str(), sizeof error->message - 1);
    error->message[sizeof error->message - 1] = '\0';
}

template <typename Body>
VZDStatus guarded(VZDGame *game, VZDError *error, Body body) {
    if (error) { error->status = VZD_OK; error->message[0] = '\0'; }
    if (!game) { fill(error, VZD_ERROR_INVALID_ARGUMENT, "game is NULL"); return VZD_ERROR_INVALID_ARGUMENT; }
    try {
        body();
        return VZD_OK;
    } catch (const vizdoom::FileDoesNotExistException &e) {
        fill(error, VZD_ERROR_FILE_NOT_FOUND, e.what());
        return VZD_ERROR_FILE_NOT_FOUND;
    } catch (const vizdoom::ViZDoomUnexpectedExitException &e) {
        fill(error, VZD_ERROR_ENGINE_EXITED, e.what());
        return VZD_ERROR_ENGINE_EXITED;
    } catch (const vizdoom::ViZDoomIsNotRunningException &e) {
        fill(error, VZD_ERROR_NOT_RUNNING, e.what());
        return VZD_ERROR_NOT_RUNNING;
    } catch (const vizdoom::ViZDoomErrorException &e) {
        fill(error, VZD_ERROR_ENGINE, e.what());
        return VZD_ERROR_ENGINE;
    } catch (const vizdoom::MessageQueueException &e) {
        fill(error, VZD_ERROR_IPC, e.what());
        return VZD_ERROR_IPC;
    } catch (const vizdoom::SharedMemoryException &e) {
        fill(error, VZD_ERROR_IPC, e.what());
        return VZD_ERROR_IPC;
    } catch (const std::invalid_argument &e) {
        fill(error, VZD_ERROR_INVALID_ARGUMENT, e.what());
        return VZD_ERROR_INVALID_ARGUMENT;
    } catch (const std::exception &e) {
        fill(error, VZD_ERROR_OTHER, e.what());
        return VZD_ERROR_OTHER;
    } catch (...) {
        fill(error, VZD_ERROR_OTHER, "unknown C++ exception in the ViZDoom client library");
        return VZD_ERROR_OTHER;
    }
}

void invalid(const std::string &what) { throw std::invalid_argument(what); }

}  // namespace

// MARK: - Lifetime

VZDGame *vzd_create(void) {
    try { return new VZDGame(); } catch (...) { return nullptr; }
}

void vzd_destroy(VZDGame *game) {
    if (!game) return;
    try { game->state.reset(); game->game.close(); } catch (...) {}
    try { delete game; } catch (...) {}
}

VZDStatus vzd_load_config(VZDGame *game, const char *path, VZDError *error) {
    return guarded(game, error, [&] {
        if (!game->game.loadConfig(path ? path : "")) invalid(std::string("cannot read config file ") + (path ? path : "(null)")
            + ": ViZDoom rejected some of its lines (its WARNING lines above name them); fix those keys or values"
              " (ViZDoom's scenarios/*.cfg show the accepted ones), or pick a built-in scenario: a3c scenarios");
    });
}

VZDStatus vzd_set_bool(VZDGame *game, VZDBoolSetting setting, int value, VZDError *error) {
    return guarded(game, error, [&] {
        auto &g = game->game;
        bool on = value != 0;
        switch (setting) {
            case VZD_RENDER_HUD: g.setRenderHud(on); break;
            case VZD_RENDER_MINIMAL_HUD: g.setRenderMinimalHud(on); break;
            case VZD_RENDER_WEAPON: g.setRenderWeapon(on); break;
            case VZD_RENDER_CROSSHAIR: g.setRenderCrosshair(on); break;
            case VZD_RENDER_DECALS: g.setRenderDecals(on); break;
            case VZD_RENDER_PARTICLES: g.setRenderParticles(on); break;
            case VZD_RENDER_EFFECTS_SPRITES: g.setRenderEffectsSprites(on); break;
            case VZD_RENDER_MESSAGES: g.setRenderMessages(on); break;
            case VZD_RENDER_CORPSES: g.setRenderCorpses(on); break;
            case VZD_RENDER_SCREEN_FLASHES: g.setRenderScreenFlashes(on); break;
            case VZD_WINDOW_VISIBLE: g.setWindowVisible(on); break;
            case VZD_SOUND_ENABLED: g.setSoundEnabled(on); break;
            case VZD_CONSOLE_ENABLED: g.setConsoleEnabled(on); break;
            default: invalid("unknown boolean setting " + std::to_string(setting));
        }
    });
}

VZDStatus vzd_set_int(VZDGame *game, VZDIntSetting setting, int64_t value, VZDError *error) {
    return guarded(game, error, [&] {
        auto &g = game->game;
        if (value < 0) invalid("setting " + std::to_string(setting) + " must not be negative");
        auto u = static_cast<unsigned int>(value);
        switch (setting) {
            case VZD_EPISODE_TIMEOUT: g.setEpisodeTimeout(u); break;
            case VZD_EPISODE_START_TIME: g.setEpisodeStartTime(u); break;
            case VZD_SEED: g.setSeed(u); break;
            case VZD_SCREEN_RESOLUTION: g.setScreenResolution(static_cast<vizdoom::ScreenResolution>(u)); break;
            case VZD_SCREEN_FORMAT: g.setScreenFormat(static_cast<vizdoom::ScreenFormat>(u)); break;
            case VZD_MODE: g.setMode(static_cast<vizdoom::Mode>(u)); break;
            case VZD_DOOM_SKILL: g.setDoomSkill(static_cast<int>(u)); break;
            case VZD_TICRATE: g.setTicrate(u); break;
            default: invalid("integer setting " + std::to_string(setting) + " cannot be set");
        }
    });
}

VZDStatus vzd_get_int(VZDGame *game, VZDIntSetting setting, int64_t *value, VZDError *error) {
    return guarded(game, error, [&] {
        auto &g = game->game;
        switch (setting) {
            case VZD_EPISODE_TIMEOUT: *value = g.getEpisodeTimeout(); break;
            case VZD_EPISODE_START_TIME: *value = g.getEpisodeStartTime(); break;
            case VZD_SEED: *value = g.getSeed(); break;
            case VZD_SCREEN_FORMAT: *value = g.getScreenFormat(); break;
            case VZD_MODE: *value = g.getMode(); break;
            case VZD_DOOM_SKILL: *value = g.getDoomSkill(); break;
            case VZD_TICRATE: *value = g.getTicrate(); break;
            case VZD_SCREEN_WIDTH: *value = g.getScreenWidth(); break;
            case VZD_SCREEN_HEIGHT: *value = g.getScreenHeight(); break;
            case VZD_SCREEN_CHANNELS: *value = g.getScreenChannels(); break;
            case VZD_EPISODE_TIME: *value = g.getEpisodeTime(); break;
            default: invalid("integer setting " + std::to_string(setting) + " cannot be read");
        }
    });
}

VZDStatus vzd_set_double(VZDGame *game, VZDDoubleSetting setting, double value, VZDError *error) {
    return guarded(game, error, [&] {
        switch (setting) {
            case VZD_LIVING_REWARD: game->game.setLivingReward(value); break;
            case VZD_DEATH_PENALTY: game->game.setDeathPenalty(value); break;
            default: invalid("unknown double setting " + std::to_string(setting));
        }
    });
}

VZDStatus vzd_get_double(VZDGame *game, VZDDoubleSetting setting, double *value, VZDError *error) {
    return guarded(game, error, [&] {
        switch (setting) {
            case VZD_LIVING_REWARD: *value = game->game.getLivingReward(); break;
            case VZD_DEATH_PENALTY: *value = game->game.getDeathPenalty(); break;
            default: invalid("unknown double setting " + std::to_string(setting));
        }
    });
}

VZDStatus vzd_set_string(VZDGame *game, VZDStringSetting setting, const char *value, VZDError *error) {
    return guarded(game, error, [&] {
        if (!value) invalid("string setting value is NULL");
        auto &g = game->game;
        switch (setting) {
            case VZD_VIZDOOM_PATH: g.setViZDoomPath(value); break;
            case VZD_DOOM_GAME_PATH: g.setDoomGamePath(value); break;
            case VZD_DOOM_SCENARIO_PATH: g.setDoomScenarioPath(value); break;
            case VZD_DOOM_MAP: g.setDoomMap(value); break;
            case VZD_DOOM_CONFIG_PATH: g.setDoomConfigPath(value); break;
            default: invalid("unknown string setting " + std::to_string(setting));
        }
    });
}

VZDStatus vzd_get_string(VZDGame *game, VZDStringSetting setting, char *buffer, size_t capacity, VZDError *error) {
    return guarded(game, error, [&] {
        if (!buffer || capacity == 0) invalid("string buffer is empty");
        auto &g = game->game;
        std::string value;
        switch (setting) {
            case VZD_VIZDOOM_PATH: value = g.getViZDoomPath(); break;
            case VZD_DOOM_GAME_PATH: value = g.getDoomGamePath(); break;
            case VZD_DOOM_SCENARIO_PATH: value = g.getDoomScenarioPath(); break;
            case VZD_DOOM_MAP: value = g.getDoomMap(); break;
            case VZD_DOOM_CONFIG_PATH: value = g.getDoomConfigPath(); break;
            default: invalid("unknown string setting " + std::to_string(setting));
        }
        std::strncpy(buffer, value.c_str(), capacity - 1);
        buffer[capacity - 1] = '\0';
    });
}

// MARK: - Buttons and game variables

VZDStatus vzd_clear_buttons(VZDGame *game, VZDError *error) {
    return guarded(game, error, [&] { game->game.clearAvailableButtons(); });
}

VZDStatus vzd_add_button(VZDGame *game, int button, VZDError *error) {
    return guarded(game, error, [&] {
        if (button < 0 || button >= static_cast<int>(vizdoom::BUTTON_COUNT)) invalid("unknown button code " + std::to_string(button));
        game->game.addAvailableButton(static_cast<vizdoom::Button>(button));
    });
}

VZDStatus vzd_get_buttons(VZDGame *game, int *buttons, size_t capacity, size_t *count, VZDError *error) {
    return guarded(game, error, [&] {
        auto all = game->game.getAvailableButtons();
        *count = all.size();
        for (size_t i = 0; i < all.size() && i < capacity; ++i) buttons[i] = static_cast<int>(all[i]);
    });
}

VZDStatus vzd_clear_game_variables(VZDGame *game, VZDError *error) {
    return guarded(game, error, [&] { game->game.clearAvailableGameVariables(); });
}

VZDStatus vzd_add_game_variable(VZDGame *game, int variable, VZDError *error) {
    return guarded(game, error, [&] {
        if (variable < 0 || variable >= vzd_game_variable_code_count()) invalid("unknown game variable code " + std::to_string(variable));
        game->game.addAvailableGameVariable(static_cast<vizdoom::GameVariable>(variable));
    });
}

VZDStatus vzd_get_game_variables(VZDGame *game, int *variables, size_t capacity, size_t *count, VZDError *error) {
    return guarded(game, error, [&] {
        auto all = game->game.getAvailableGameVariables();
        *count = all.size();
        for (size_t i = 0; i < all.size() && i < capacity; ++i) variables[i] = static_cast<int>(all[i]);
    });
}

int vzd_button_code_count(void) { return static_cast<int>(vizdoom::BUTTON_COUNT); }

// USER60 is the last GameVariable in ViZDoom 1.3.2; the enumeration has no count constant.
int vzd_game_variable_code_count(void) { return static_cast<int>(vizdoom::USER60) + 1; }

namespace {
int copyName(const std::string &name, char *buffer, size_t capacity) {
    if (!buffer || capacity == 0 || name.empty()) return 0;
    std::strncpy(buffer, name.c_str(), capacity - 1);
    buffer[capacity - 1] = '\0';
    return 1;
}
}  // namespace

int vzd_button_name(int button, char *buffer, size_t capacity) {
    if (button < 0 || button >= vzd_button_code_count()) return 0;
    try { return copyName(vizdoom::buttonToString(static_cast<vizdoom::Button>(button)), buffer, capacity); }
    catch (...) { return 0; }
}

int vzd_game_variable_name(int variable, char *buffer, size_t capacity) {
    if (variable < 0 || variable >= vzd_game_variable_code_count()) return 0;
    try { return copyName(vizdoom::gameVariableToString(static_cast<vizdoom::GameVariable>(variable)), buffer, capacity); }
    catch (...) { return 0; }
}

// MARK: - Running

VZDStatus vzd_init(VZDGame *game, VZDError *error) {
    return guarded(game, error, [&] {
        if (!game->game.init()) throw vizdoom::ViZDoomErrorException("the engine did not start");
        game->action.assign(game->game.getAvailableButtonsSize(), 0.0);
        game->state = game->game.getState();
    });
}

VZDStatus vzd_close(VZDGame *game, VZDError *error) {
    return guarded(game, error, [&] {
        game->state.reset();
        game->game.close();
    });
}

int vzd_is_running(VZDGame *game) {
    if (!game) return 0;
    try { return game->game.isRunning() ? 1 : 0; } catch (...) { return 0; }
}

VZDStatus vzd_instance_id(VZDGame *game, char *buffer, size_t capacity, VZDError *error) {
    return guarded(game, error, [&] {
        if (!buffer || capacity == 0) invalid("string buffer is empty");
        std::string id = game->game.getInstanceId();
        std::strncpy(buffer, id.c_str(), capacity - 1);
        buffer[capacity - 1] = '\0';
    });
}

VZDStatus vzd_new_episode(VZDGame *game, VZDError *error) {
    return guarded(game, error, [&] {
        game->state.reset();
        game->game.newEpisode();
        game->state = game->game.getState();
    });
}

VZDStatus vzd_make_action(VZDGame *game, const double *action, size_t count, unsigned tics,
                          double *reward, VZDError *error) {
    return guarded(game, error, [&] {
        if (count != game->action.size())
            invalid("action has " + std::to_string(count) + " values but the game has " +
                    std::to_string(game->action.size()) + " available buttons");
        if (tics == 0) invalid("tics must be at least 1");
        for (size_t i = 0; i < count; ++i) game->action[i] = action[i];
        game->state.reset();
        *reward = game->game.makeAction(game->action, tics);
        game->state = game->game.getState();
    });
}

VZDStatus vzd_is_episode_finished(VZDGame *game, int *finished, VZDError *error) {
    return guarded(game, error, [&] { *finished = game->game.isEpisodeFinished() ? 1 : 0; });
}

VZDStatus vzd_is_player_dead(VZDGame *game, int *dead, VZDError *error) {
    return guarded(game, error, [&] { *dead = game->game.isPlayerDead() ? 1 : 0; });
}

VZDStatus vzd_total_reward(VZDGame *game, double *reward, VZDError *error) {
    return guarded(game, error, [&] { *reward = game->game.getTotalReward(); });
}

VZDStatus vzd_get_game_variable(VZDGame *game, int variable, double *value, VZDError *error) {
    return guarded(game, error, [&] {
        *value = game->game.getGameVariable(static_cast<vizdoom::GameVariable>(variable));
    });
}

VZDStatus vzd_screen(VZDGame *game, const uint8_t **pixels, int *width, int *height, int *channels,
                     VZDError *error) {
    return guarded(game, error, [&] {
        *width = game->game.getScreenWidth();
        *height = game->game.getScreenHeight();
        *channels = game->game.getScreenChannels();
        if (game->state && game->state->screenBuffer) *pixels = game->state->screenBuffer->data();
        else *pixels = nullptr;
    });
}

VZDStatus vzd_game_variables(VZDGame *game, const double **values, size_t *count, unsigned *tic,
                             VZDError *error) {
    return guarded(game, error, [&] {
        if (game->state) {
            *values = game->state->gameVariables.data();
            *count = game->state->gameVariables.size();
            *tic = game->state->tic;
        } else {
            *values = nullptr;
            *count = 0;
            *tic = 0;
        }
    });
}

const char *vzd_default_home(void) { return A3C_VIZDOOM_HOME; }
