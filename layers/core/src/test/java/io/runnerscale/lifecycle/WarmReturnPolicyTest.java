package io.runnerscale.lifecycle;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WarmReturnPolicy} over every combination of drain reason, reuse flag, held hook, group
 * protection setting, this instance's state, min size and one other instance in each protection state
 * the group can show, against an oracle written from the rule's wording.
 */
class WarmReturnPolicyTest {
    static final String SELF = "i-self";
    static final String OTHER = "i-other";

    /** What the other instance of the group is. */
    enum Other {
        NONE, PROTECTED, UNPROTECTED, UNPROTECTED_RETURNING, UNPROTECTED_WARMED, UNPROTECTED_TERMINATING,
        UNPROTECTED_PENDING
    }

    @Test
    void everyCombinationFollowsTheRule() {
        int cases = 0;
        int returns = 0;
        for (DrainReason reason : DrainReason.values()) {
            for (boolean reuse : new boolean[]{false, true}) {
                for (boolean hook : new boolean[]{false, true}) {
                    for (boolean described : new boolean[]{false, true}) {
                        for (boolean groupProtects : new boolean[]{false, true}) {
                            for (boolean selfInService : new boolean[]{false, true}) {
                                for (boolean atMin : new boolean[]{false, true}) {
                                    for (Other other : Other.values()) {
                                        cases++;
                                        boolean expected = reason == DrainReason.SCALE_IN && reuse && !hook && described
                                                && selfInService && !atMin && groupProtects
                                                && other != Other.UNPROTECTED && other != Other.UNPROTECTED_PENDING;
                                        WarmReturnPolicy.Verdict verdict = WarmReturnPolicy.decide(reason, reuse, hook,
                                                SELF, described ? Optional.of(group(groupProtects, selfInService, atMin,
                                                        other)) : Optional.empty(),
                                                other == Other.UNPROTECTED_RETURNING ? Set.of(OTHER)::contains : Set.of()::contains);
                                        String at = reason + " reuse=" + reuse + " hook=" + hook + " described="
                                                + described + " groupProtects=" + groupProtects + " inService="
                                                + selfInService + " atMin=" + atMin + " other=" + other;
                                        assertEquals(expected, verdict.decision().returns(), at + ": " + verdict);
                                        assertEquals(expected, verdict.why().isEmpty(), "a fallback says why: " + at);
                                        if (expected) {
                                            returns++;
                                        }
                                        // the cheap precheck never rules out a return, nor lets a non-candidate through
                                        assertEquals(reason == DrainReason.SCALE_IN && reuse && !hook,
                                                WarmReturnPolicy.candidate(reason, reuse, hook), at);
                                        if (!WarmReturnPolicy.candidate(reason, reuse, hook)) {
                                            assertFalse(verdict.decision().returns(), at);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assertEquals(7 * 2 * 2 * 2 * 2 * 2 * 2 * Other.values().length, cases);
        assertEquals(5, returns, "scale-in, reuse, no hook, described, protected, in service, above min: five others");
    }

    @Test
    void theReasonNamesTheCause() {
        assertEquals(WarmReturnPolicy.Decision.TERMINATE_OTHER_UNPROTECTED, WarmReturnPolicy.decide(DrainReason.SCALE_IN,
                true, false, SELF, Optional.of(group(true, true, false, Other.UNPROTECTED)), Set.of()::contains).decision());
        WarmReturnPolicy.Verdict verdict = WarmReturnPolicy.decide(DrainReason.SCALE_IN, true, false, SELF,
                Optional.of(group(true, true, false, Other.UNPROTECTED)), Set.of()::contains);
        assertTrue(verdict.why().contains(OTHER), verdict.why());
        assertEquals(WarmReturnPolicy.Decision.TERMINATE_GROUP_UNPROTECTED, WarmReturnPolicy.decide(DrainReason.SCALE_IN,
                true, false, SELF, Optional.of(group(false, true, false, Other.PROTECTED)), Set.of()::contains).decision());
        assertEquals(WarmReturnPolicy.Decision.TERMINATE_AT_MIN_SIZE, WarmReturnPolicy.decide(DrainReason.SCALE_IN,
                true, false, SELF, Optional.of(group(true, true, true, Other.PROTECTED)), Set.of()::contains).decision());
        assertEquals(WarmReturnPolicy.Decision.TERMINATE_NOT_SCALE_IN, WarmReturnPolicy.decide(DrainReason.RETIRED,
                true, false, SELF, Optional.of(group(true, true, false, Other.PROTECTED)), Set.of()::contains).decision());
    }

    @Test
    void anUnprotectedInstanceWhoseRecordIsNotReturningBlocksEvenIfAnotherReturns() {
        GroupMembers.Group g = new GroupMembers.Group("asg", true, List.of(
                new GroupMembers.Member(SELF, "InService", true),
                new GroupMembers.Member("i-a", "InService", false),
                new GroupMembers.Member("i-b", "InService", false)), true, 3, 0);
        assertEquals(WarmReturnPolicy.Decision.TERMINATE_OTHER_UNPROTECTED,
                WarmReturnPolicy.decide(DrainReason.SCALE_IN, true, false, SELF, Optional.of(g), Set.of("i-a")::contains).decision());
        assertEquals(WarmReturnPolicy.Decision.RETURN,
                WarmReturnPolicy.decide(DrainReason.SCALE_IN, true, false, SELF, Optional.of(g), Set.of("i-a", "i-b")::contains)
                        .decision());
    }

    static GroupMembers.Group group(boolean groupProtects, boolean selfInService, boolean atMin, Other other) {
        List<GroupMembers.Member> members = new ArrayList<>();
        // this instance's own protection does not matter: the return lifts it
        members.add(new GroupMembers.Member(SELF, selfInService ? "InService" : "Terminating:Wait", true));
        switch (other) {
            case NONE -> { }
            case PROTECTED -> members.add(new GroupMembers.Member(OTHER, "InService", true));
            case UNPROTECTED, UNPROTECTED_RETURNING -> members.add(new GroupMembers.Member(OTHER, "InService", false));
            case UNPROTECTED_WARMED -> members.add(new GroupMembers.Member(OTHER, "Warmed:Stopped", false));
            case UNPROTECTED_TERMINATING -> members.add(new GroupMembers.Member(OTHER, "Terminating:Wait", false));
            case UNPROTECTED_PENDING -> members.add(new GroupMembers.Member(OTHER, "Pending:Wait", false));
        }
        int desired = members.size();
        return new GroupMembers.Group("asg", true, members, groupProtects, desired, atMin ? desired : desired - 1);
    }
}
