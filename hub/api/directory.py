"""REST endpoints of the organization: users, teams and their members, tags, partner
organizations and the lead-scoring settings.

Every member of staff reads them (the console names people, teams and tags);
administrators change users, teams, memberships, partner organizations and scoring,
supervisors change tags. Partners get 404 (hub.api.base.RoleGatedMixin)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets

from hub import actions
from hub.api.base import RecordViewSetMixin, RoleGatedMixin, validation_as_400
from hub.models import LeadScoring, PartnerOrganization, Tag, Team, TeamMembership, User
from hub.permissions import is_supervisor


class UserSerializer(serializers.ModelSerializer):
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "partner_organization",
            "is_active",
            "language",
            "time_zone",
            "capacity",
            "teams",
            "date_joined",
        ]
        read_only_fields = ["id", "teams", "date_joined"]

    def validate_email(self, value: str) -> str:
        # Stored lower-case: sign-in is case-insensitive (hub.models.users).
        return value.strip().lower()


class UserViewSet(
    RoleGatedMixin,
    RecordViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Users without credentials. A user created here has no usable password: they
    set one through the password reset, or an admin sets it in the admin. Users are
    deactivated (`is_active: false`), never deleted, so their history keeps its author."""

    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[User]:
        users = User.objects.prefetch_related("teams").order_by("full_name", "id")
        params = self.request.query_params
        if params.get("role"):
            users = users.filter(role=params["role"])
        if params.get("team", "").isdigit():
            users = users.filter(teams=int(params["team"]))
        if params.get("active") in ("0", "1"):
            users = users.filter(is_active=params["active"] == "1")
        return users

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        validation_as_400(
            lambda: actions.check_user_change(
                User.objects.get(pk=serializer.instance.pk),
                serializer.validated_data,
                by=self.request.user,
            )
        )
        super().perform_update(serializer)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        user = User(**serializer.validated_data)
        user.set_unusable_password()
        serializer.instance = validation_as_400(
            lambda: actions.do_save_record(
                user, by=self.request.user, changes=serializer.validated_data
            )
        )


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "kind", "members"]
        read_only_fields = ["id", "members"]


class TeamViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.prefetch_related("members").order_by("name", "id")


class TeamMembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = TeamMembership
        fields = ["id", "team", "user", "joined_at"]
        read_only_fields = ["id", "joined_at"]

    def validate_user(self, user: User) -> User:
        if not user.is_internal:
            raise serializers.ValidationError("Only active staff can be team members.")
        return user


class TeamMembershipViewSet(
    RoleGatedMixin,
    RecordViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who is in which team (?team=, ?user=); administrators add and remove members."""

    serializer_class = TeamMembershipSerializer

    def get_queryset(self) -> QuerySet[TeamMembership]:
        rows = TeamMembership.objects.order_by("team_id", "user_id")
        params = self.request.query_params
        for name in ("team", "user"):
            if params.get(name, "").isdigit():
                rows = rows.filter(**{f"{name}_id": int(params[name])})
        return rows


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "color"]
        read_only_fields = ["id"]

    def validate_color(self, value: str) -> str:
        # The model's validator has checked the form (for the admin as well).
        return value.lower()


class TagViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    serializer_class = TagSerializer
    queryset = Tag.objects.order_by("name", "id")
    may_write = staticmethod(is_supervisor)


class PartnerOrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerOrganization
        fields = ["id", "name", "slug", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]


class PartnerOrganizationViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    serializer_class = PartnerOrganizationSerializer
    queryset = PartnerOrganization.objects.order_by("name", "id")


class LeadScoringSerializer(serializers.ModelSerializer):
    tag_points = serializers.DictField(child=serializers.IntegerField(), required=False)

    class Meta:
        model = LeadScoring
        fields = [
            "id",
            "name",
            "is_active",
            "size_weight",
            "size_full_at",
            "interactions_weight",
            "interactions_full_at",
            "recency_weight",
            "recency_days",
            "deal_value_weight",
            "deal_value_full_at",
            "tag_points",
            "call_task_threshold",
            "nurture_tag",
        ]
        read_only_fields = ["id"]


class LeadScoringViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    """The lead-scoring weights (hub.scoring uses the active row with the lowest id)."""

    serializer_class = LeadScoringSerializer
    queryset = LeadScoring.objects.order_by("id")
