package dev.reprise.artifact.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.artifact.service.RestoreOrder.Attempt;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestoreOrderTest {

    @Test
    void theKeyThenEachRestoreKeyInTheBranchThenInTheDefaultBranch() {
        assertThat(RestoreOrder.attempts("npm-linux-abc", List.of("npm-linux-", "npm-"), "feature/x", "main")).containsExactly(
                new Attempt("npm-linux-abc", "feature/x"),
                new Attempt("npm-linux-", "feature/x"),
                new Attempt("npm-", "feature/x"),
                new Attempt("npm-linux-abc", "main"),
                new Attempt("npm-linux-", "main"),
                new Attempt("npm-", "main"));
    }

    @Test
    void onTheDefaultBranchEachCandidateIsTriedOnce() {
        assertThat(RestoreOrder.attempts("k", List.of("k", "p"), null, "main"))
                .containsExactly(new Attempt("k", "main"), new Attempt("p", "main"));
        assertThat(RestoreOrder.attempts("k", List.of(), "main", "main")).containsExactly(new Attempt("k", "main"));
    }
}
