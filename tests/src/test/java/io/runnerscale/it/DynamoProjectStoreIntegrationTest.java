package io.runnerscale.it;

import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.ProjectRecord;
import io.runnerscale.store.ProjectStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The projects the reconciler lists, on DynamoDB Local: what each write keeps, and when an item expires. */
class DynamoProjectStoreIntegrationTest {
    /** Now: DynamoDB Local deletes items whose TTL has passed, as DynamoDB does. */
    static final Instant T0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

    final String table = SharedDynamo.newTable("projects");
    final DynamoJobStore store = new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));

    @AfterEach
    void drop() {
        SharedDynamo.dropTable(table);
    }

    List<ProjectRecord> projects() {
        return store.projects().stream().sorted(Comparator.comparingLong(ProjectRecord::projectId)).toList();
    }

    long expiresAt(long project) {
        Map<String, AttributeValue> item = SharedDynamo.client().getItem(r -> r.tableName(table)
                .key(Map.of(DynamoJobStore.PK, AttributeValue.fromS("PROJECT#" + project))).consistentRead(true)).item();
        return Long.parseLong(item.get(DynamoJobStore.EXPIRES_AT).n());
    }

    @Test
    void sightingsListingsAndHookChecksAreKeptApart() {
        store.projectSeen(7, T0);
        store.projectSeen(7, T0.minusSeconds(60));
        store.projectListed(7, T0.plusSeconds(5));
        store.hooksChecked(7, T0.plusSeconds(6), 2);
        store.projectListed(9, T0.plusSeconds(7));
        store.hooksChecked(9, T0.plusSeconds(8), -1);

        assertEquals(List.of(new ProjectRecord(7, T0, T0.plusSeconds(5), T0.plusSeconds(6), 2),
                new ProjectRecord(9, null, T0.plusSeconds(7), T0.plusSeconds(8), -1)), projects());
    }

    @Test
    void aProjectExpiresAWeekAfterItWasLastSeenNotAfterItWasListed() {
        store.projectSeen(7, T0);
        store.projectListed(7, T0.plus(Duration.ofDays(3)));
        assertEquals(T0.plus(ProjectStore.REMEMBERED).getEpochSecond(), expiresAt(7));
        store.projectSeen(7, T0.plus(Duration.ofDays(2)));
        assertEquals(T0.plus(Duration.ofDays(2)).plus(ProjectStore.REMEMBERED).getEpochSecond(), expiresAt(7));

        store.hooksChecked(8, T0, 0);
        assertEquals(T0.plus(ProjectStore.REMEMBERED).getEpochSecond(), expiresAt(8),
                "a project only named in the config expires unless named (and so checked) again");
    }
}
