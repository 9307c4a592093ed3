package io.runnerscale.local;

import io.runnerscale.lifecycle.RunnerTokens;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code serve}'s stand-in for the per-instance SSM SecureStrings: tokens kept in memory only, never
 * printed, logged or shown by {@code GET /status} (only whether one exists is ever asked).
 */
public final class LocalRunnerTokens implements RunnerTokens {
    private final Map<String, String> tokens = new ConcurrentHashMap<>();

    @Override
    public void put(String instanceId, String token, String instanceArn) {
        tokens.put(instanceId, token);
    }

    @Override
    public boolean exists(String instanceId) {
        return tokens.containsKey(instanceId);
    }

    @Override
    public void delete(String instanceId) {
        tokens.remove(instanceId);
    }

    @Override
    public java.util.List<String> list() {
        return java.util.List.copyOf(tokens.keySet());
    }

    /** How many tokens are held (never which). */
    public int size() {
        return tokens.size();
    }

    @Override
    public String toString() {
        return "LocalRunnerTokens[" + tokens.size() + " held]";
    }
}
