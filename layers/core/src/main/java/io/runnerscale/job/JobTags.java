package io.runnerscale.job;

/**
 * The one rule for a job's tags, wherever they are read (a hook's {@code tag_list}, GitLab's jobs
 * API): at most {@link #MAX_TAGS} tags, each a non-blank string of at most {@link #MAX_TAG_LENGTH}
 * characters. Anything else is not a tag: read as {@code "null"} or {@code ""} it would send the
 * job to no pool, and unbounded it would not fit in the job's record.
 */
public final class JobTags {
    /** GitLab's own limit on the length of a tag name. */
    public static final int MAX_TAG_LENGTH = 255;
    /** Far more than any pool matches on (pools list a handful); keeps a record's tags a few KB. */
    public static final int MAX_TAGS = 50;
    /** What {@link #isValidTag} checks, for messages. */
    public static final String RULE = "a non-blank string of at most " + MAX_TAG_LENGTH + " characters";

    private JobTags() {
    }

    public static boolean isValidTag(String tag) {
        return tag != null && !tag.isBlank() && tag.length() <= MAX_TAG_LENGTH;
    }
}
